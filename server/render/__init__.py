"""Printable output: QR images for gate codes and PDFs of posters and enforcement documents."""
