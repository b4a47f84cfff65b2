def build():
    """torchvision's ResNet-50, untrained (the weights come from weights.safetensors)."""
    import torchvision
    return torchvision.models.resnet50(weights=None, num_classes=CLASSES)
