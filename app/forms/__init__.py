"""WTForms fields and forms of our own pages."""
