def build():
    """torchvision's VGG-16 with the classifier sized for {{INPUT_SIZE}} px input: the feature
    map is flattened as it is (no adaptive pool to 7 x 7), as brainlike's FC head does."""
    import torchvision
    model = torchvision.models.vgg16(weights=None, num_classes=CLASSES)
    model.avgpool = nn.Identity()
    model.classifier[0] = nn.Linear({{FC_IN}}, 4096)
    return model
