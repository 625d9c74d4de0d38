def document(descriptor_set):
    return {}
