"""Each person's safeguarding training record: what they attended (with certificates), feedback on
sessions, and the record a person reads and downloads for themselves."""
