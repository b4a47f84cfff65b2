def build():
    """timm's EfficientNet-B1, untrained (the weights come from weights.safetensors)."""
    import timm
    return timm.create_model('efficientnet_b1', pretrained=False, num_classes=CLASSES)
