"""The report's Jinja2 templates (presentation only) and its bibliography, references.bib.

Package data, declared here so that the report stage depends on every file of
this directory: editing a template or a reference re-renders the report.
"""

PACKAGE_FILES = (".",)
