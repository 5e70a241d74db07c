"""The top floor has no tables; this module exists so Django sends ``post_migrate`` to ``opsdesk`` (apps.py)."""
