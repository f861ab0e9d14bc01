"""How a declaration is stored: one file, or a folder of files that teams own."""
