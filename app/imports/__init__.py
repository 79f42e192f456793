"""Bulk imports: the product catalogue from CSV, all rows or none."""
