"""Reactions to prospects' hooks (filled by the Dropcontact pipeline)."""
