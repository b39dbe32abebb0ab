"""The wiki's page model: front matter, wikilinks, slugs, index.md and log.md rendering."""
