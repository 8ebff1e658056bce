"""Ingest: CIM RDF/XML files, folders and zip archives into located, lossless raw objects."""
