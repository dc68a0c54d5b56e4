"""Flask-free domain logic: rules, scope, imports, ID numbers. Views and jobs call into here."""
