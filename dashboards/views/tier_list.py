"""等级名单 Tier list: the published tiers as of a scoring date — the rows the role's
audience receives (`publication.audiences` of the rule set: the public the A list, the
association every tier; the centre sees all), labelled as risk classes, with a firm's
decided 严重失信 listing where there is one (scores shown only to roles allowed to see them;
downloads by role)."""

import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from dashboards.auth import may
from dashboards.data import read, warehouse_file
from dashboards.i18n import lang, t, widget
from dashboards.queries import public as q
from dashboards.queries.rules import rules_as_of
from dashboards.ui import current_user, get, plain, say, table, tier_caption, tier_chart
from models.labels import default_labels
from models.publication import tier_definitions
from warehouse import audit
from warehouse.audit import audit_path
from warehouse.publication import tier_list_file

# The rule set's audience each role is (other roles are the centre's own: every tier). A
# comment, not a string: Streamlit's magic would print a bare string on the page.
AUDIENCE_OF_ROLE = {"public": "public", "association": "association"}

st.title(t("page.tier_list"))
user = current_user()
dates = get(q.published_dates, None)["as_of"].to_list()
if not dates:
    st.info(t("no_data"))
    st.stop()
left, mid, right = st.columns([1, 2, 2])
as_of = left.selectbox(t("as_of"), dates, index=0, format_func=lambda d: d.isoformat())
audience = AUDIENCE_OF_ROLE.get(user.role)
listing = get(q.audience_tier_list, q.AudienceListing(as_of, audience))
rules = get(rules_as_of, as_of)
if audience is not None:
    st.caption(say("tl.audience", tiers="、".join(rules.publication.audiences[audience].tiers)))
tiers = mid.multiselect(
    t("tl.tiers"),
    sorted(listing["tier"].unique()),
    format_func=lambda x: tier_caption(x, rules),
    placeholder=widget("choose_many"),
)
text = right.text_input(t("tl.search"))

cols = st.columns(5)
counts = dict(listing.group_by("tier").len().iter_rows())
cols[0].metric(t("ov.firms"), f"{listing.height:,d}")
shown_tiers = rules.publication.audiences[audience].tiers if audience else rules.tier_names
for col, tier in zip(cols[1:], shown_tiers, strict=False):
    col.metric(plain(tier_caption(tier, rules)), f"{counts.get(tier, 0):,d}")
version = listing["rule_set_version"][0] if listing.height else "—"
st.caption(say("tl.caption", as_of=as_of.isoformat(), version=version, n=listing.height))
tier_chart(listing.group_by("firm_type", "tier").agg(firms=pl.len()), "firm_type", horizontal=True)

shown = listing
if tiers:
    shown = shown.filter(pl.col("tier").is_in(tiers))
if text.strip():
    shown = shown.filter(
        pl.col("name").str.contains(text.strip(), literal=True)
        | pl.col("uscc").str.starts_with(text.strip().upper())
    )
columns = ["uscc", "name", "firm_type", "district", "tier", "tier_label", "listed"]
if may(user, "scores"):
    columns += ["score", "veto"]
table(shown, columns)
st.caption(t("tl.risk_note"))

with st.expander(t("tl.definitions")):
    definitions = tier_definitions(rules)
    label = "label_en" if lang() == "en" else "label_zh"
    if lang() == "en":  # the band's wording is bilingual ("，或一票否决 / or veto")
        definitions = definitions.with_columns(pl.col("band").str.replace("，或一票否决 / ", ", "))
    else:
        definitions = definitions.with_columns(pl.col("band").str.replace(" / or veto", ""))
    table(definitions.select("tier", label, "band"))

if may(user, "download"):

    def workbook() -> bytes:
        from warehouse.publication import write_tier_list

        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / tier_list_file(as_of)
            read(
                warehouse_file(),
                lambda con, day: write_tier_list(
                    con, rules, default_labels(), day, target, audience or "association"
                ),
                as_of,
            )
            data = target.read_bytes()
        audit.append(
            audit_path(warehouse_file()),
            "export",
            {"what": "tier_list", "as_of": str(as_of), "via": "dashboard"},
            actor=user.username,
        )
        return data

    st.download_button(
        t("tl.download"),
        data=workbook,
        file_name=tier_list_file(as_of),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
    )
