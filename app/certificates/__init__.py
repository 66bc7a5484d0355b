"""Certificates of attendance: issued once when attendance is recorded, withdrawn when it is
corrected or the person erased, rendered as a PDF and checked by their code."""
