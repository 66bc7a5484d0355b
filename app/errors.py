"""The one error model of the domain: every refused operation raises a `DomainError`.

`code` is the machine code the API answers with (agreed with its users: keep them stable);
`field` names the form field or JSON member at fault, where one is; the message is the sentence a
person reads, in the GOV.UK style ("Enter …", "Choose …"). A refusal that ends a journey is a page
of its own: its `heading`, the message, then its `advice` (what to do now). The web layer maps
these once to a GOV.UK error summary (`app.web.errors.field_errors`), once to that page
(`app.main._refused`) and once to the API's JSON problem (`app.web.errors.problem_for`).
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the operation; nothing was written."""

    code: str = "refused"
    status: int = 409  #: the HTTP status the API answers with
    field: str | None = None
    message: str = "This cannot be done"
    heading: str = "Sorry, that could not be done"  #: the page's heading, where the refusal is a page
    advice: tuple[str, ...] = ("Nothing was saved.",)  #: what the page says after the message

    def __init__(self, message: str | None = None, *, field: str | None = None, code: str | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message
        if field is not None:
            self.field = field
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """Nothing has that id or token."""

    code = "not_found"
    status = 404
    message = "Not found"
    heading = "Page not found"
    advice = ("If you typed the web address, check it is correct.",
              "If you followed a link to your booking, check you used the whole link from your email.")

    def page_words(self) -> tuple[str, ...]:
        """What the 404 page says below its heading: the advice, after the message where the
        message says more than the heading."""
        if self.heading == NotFound.heading or self.message == self.heading:
            return self.advice
        return (self.message, *self.advice)


class InvalidInput(DomainError):
    """Input a rule cannot accept; `errors` maps each field to its message."""

    code = "invalid"
    status = 422
    message = "Check your answers"

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors.items()), field=next(iter(errors), None))
        self.message = type(self).message
        self.errors = dict(errors)
