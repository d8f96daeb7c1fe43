"""What the platform's processes need on AWS beyond the warehouses (the metadata database's sign-in)."""
