class Identity(nn.Module):
    def forward(self, x):
        return x


class Flatten(nn.Module):
    def forward(self, x):
        return x.reshape(x.size(0), -1)


class Block(nn.Module):
    """A CORnet-Z area: conv -> (LRN) -> ReLU -> max-pool 3x3/2 (official CORnet names)."""

    def __init__(self, c_in, c_out, kernel_size=3, stride=1, lrn=False):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2)
        # No parameters: the state_dict is the official CORnet-Z's either way.
        self.norm = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0) if lrn else Identity()
        self.nonlin = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.output = Identity()

    def forward(self, x):
        return self.output(self.pool(self.nonlin(self.norm(self.conv(x)))))


class CORnetZ(nn.Module):
    """CORnet-Z (Kubilius et al. 2018) with the official module names V1, V2, V4, IT and
    either CORnet's decoder (average pool + linear) or the FC 4096-4096 head of Federer et
    al. 2019 (`classifier.0/3/6`, as torchvision's VGG names it)."""

    def __init__(self, classes, head, lrn, fc_in):
        super().__init__()
        self.V1 = Block(3, 64, kernel_size=7, stride=2, lrn=lrn)
        self.V2 = Block(64, 128, lrn=lrn)
        self.V4 = Block(128, 256, lrn=lrn)
        self.IT = Block(256, 512, lrn=lrn)
        if head == 'decoder':
            self.decoder = nn.Sequential()
            self.decoder.add_module('avgpool', nn.AdaptiveAvgPool2d(1))
            self.decoder.add_module('flatten', Flatten())
            self.decoder.add_module('linear', nn.Linear(512, classes))
            self.decoder.add_module('output', Identity())
        else:
            self.flatten = Flatten()
            self.classifier = nn.Sequential(
                nn.Linear(fc_in, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
                nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
                nn.Linear(4096, classes))
        self.head = head

    def forward(self, x):
        x = self.IT(self.V4(self.V2(self.V1(x))))
        if self.head == 'decoder':
            return self.decoder(x)
        return self.classifier(self.flatten(x))


def build():
    return CORnetZ(CLASSES, head='{{HEAD}}', lrn={{LRN}}, fc_in={{FC_IN}})
