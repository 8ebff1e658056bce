"""Renderers: results and findings to JSON, Markdown, HTML, SARIF, JUnit and annotated CIM; pure, no file access."""
