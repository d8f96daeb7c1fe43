"""One publish dialect per warehouse, named by its ``Warehouse.publish_dialect`` in the registry."""
