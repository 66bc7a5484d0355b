"""Piccolo tables for settings and people."""

from __future__ import annotations

import enum

from piccolo.columns import Boolean, Date, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.readable import Readable
from piccolo.table import Table



class SettingType(enum.StrEnum):
    school = "school"
    college = "college"
    nursery = "nursery"
    childminder = "childminder"
    unknown = "unknown"


class Setting(Table):
    """A school, college, nursery/pre-school or childminder. Settings typed in by bookers that are
    not on the register are kept (`on_register` false) so organisers can merge them later."""

    name = Varchar(length=200)
    name_key = Varchar(length=200, index=True, help_text="Lower-cased name with spaces folded, for look-ups.")
    urn = Varchar(length=20, unique=True, null=True, default=None, help_text="DfE URN or Ofsted EY number.")
    setting_type = Varchar(length=20, choices=SettingType, default=SettingType.unknown)
    postcode = Varchar(length=10, default="")
    quadrant = Varchar(length=20, null=True, default=None, help_text="The area's code (seeds/councils).")
    on_register = Boolean(default=False)
    contact_email = Varchar(length=254, default="", help_text="The setting's own address on the register "
                                                             "(imported, or set by organisers): where its "
                                                             "questionnaire link may be sent.")
    copies_to_contact = Boolean(default=False, help_text="The contact chose (through a link emailed to that address) "
                                                         "to get a copy of its staff's confirmations, cancellations "
                                                         "and certificates: each copy its own email, without links.")
    merged_into = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz()

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class Person(Table):
    """Someone who books: a DSL, deputy, head or manager. Identified by work email."""

    name = Varchar(length=200)
    email = Varchar(length=254, unique=True, help_text="Stored lower-cased: one person per address.")
    no_shows_lifted_at = Timestamptz(null=True, default=None,
                                     help_text="An organiser lifted the waiting-list rule for repeat no-shows: "
                                               "no-shows recorded before this no longer count.")
    created_at = Timestamptz()
    updated_at = Timestamptz()

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class LeadRole(enum.StrEnum):
    dsl = "dsl"
    deputy_dsl = "deputy_dsl"


class LeadSource(enum.StrEnum):
    #: Set by an organiser: wins over what the setting said.
    organiser = "organiser"
    #: Given on a submitted questionnaire (Q4, Q5): shown as "as the setting said".
    questionnaire = "questionnaire"


class SettingLead(Table, tablename="setting_lead"):
    """Who a setting's DSL (Lead Practitioner) or a deputy is or was: a fact about the setting,
    set by organisers (or given on the questionnaire, Q4 and Q5). Q13 counts the forum attendance
    of the person with this work email while they held the role, whatever they ticked when
    booking; a person who leads several settings counts for each."""

    setting = ForeignKey(Setting, null=False, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=20, choices=LeadRole)
    name = Varchar(length=200)
    email = Varchar(length=254, index=True, help_text="Work email, lower-cased.")
    since = Date(null=True, default=None, help_text="In the role from (empty: not known).")
    until = Date(null=True, default=None, help_text="In the role until (empty: still is).")
    source = Varchar(length=20, choices=LeadSource, default=LeadSource.organiser,
                     help_text="Who said so: an organiser's entry wins over the setting's questionnaire.")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CopiesLink(Table, tablename="copies_link"):
    """A link emailed to a setting's contact address: to choose whether it gets copies of its staff's
    confirmations, cancellations and certificates (`purpose` "copies"), or to make and withdraw
    inspectors' links to its evidence ("evidence"). Only its hash is kept; it lapses after a week
    and is removed by the retention purge."""

    email = Varchar(length=254, index=True)
    purpose = Varchar(length=20, default="copies", help_text="What the link lets the contact do: copies, evidence")
    token_hash = Varchar(length=64, unique=True, secret=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)


class InspectorShare(Table, tablename="inspector_share"):
    """A link to a setting's evidence page that its contact made for an inspector: it shows that
    page and nothing else, lasts the days chosen (at most 30), can be withdrawn, and every opening
    is counted and audited. Only its hash is kept."""

    setting = ForeignKey(Setting, null=False, on_delete=OnDelete.restrict, index=True)
    token_hash = Varchar(length=64, unique=True, secret=True)
    made_by = Varchar(length=254, help_text="The contact address that made it.")
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    withdrawn_at = Timestamptz(null=True, default=None)
    opened = Integer(default=0)
    last_opened_at = Timestamptz(null=True, default=None)
