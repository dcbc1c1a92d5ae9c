"""The example at the foot of every command's --help: one line that works as it is typed.

The heading and the prose lines are marked for the catalogue (``N_``) and shown in the chosen
language (``sortition_cli.i18n.epilog_text``); the command lines stay as they are typed.
"""

from __future__ import annotations

from sortition_cli.i18n import N_

EXAMPLES = {
    "check": ["sortition check --pool respondents.csv --quotas categories.csv -k 60"],
    "select": [
        "sortition select --pool respondents.csv --quotas categories.csv -k 60 \\",
        '    --pseudonym-key pseudonyms.key --dice "4,1,6,2,5" --out panel/',
    ],
    "commit": [
        "sortition commit --pool respondents.csv --quotas categories.csv -k 60 --out c/",
        N_("(then publish the SHA-256 it prints, and roll the dice in public)"),
    ],
    "draw": [
        'sortition draw --commitment c/commitment.json --dice "4,1,6" \\',
        "    --expect PUBLISHED_SHA256 --pool respondents.csv --out panel/",
        N_("(a replacement draw's commitment, from replace --commit-only:)"),
        'sortition draw --commitment c1/commitment.json --dice "2,5,1,6,3" \\',
        "    --expect PUBLISHED_SHA256 --pool respondents.csv --pseudonym-key pseudonyms.key \\",
        "    --out round1/",
    ],
    "replace": [
        "sortition replace --record panel/record.json --pool respondents.csv \\",
        '    --dropouts dropouts.txt --dice "2,5,1,6,3" --pseudonym-key pseudonyms.key \\',
        "    --out round1/",
        "sortition replace --record panel/record.json --pool respondents.csv \\",
        "    --dropouts dropouts.txt --pseudonym-key pseudonyms.key --commit-only --out c1/",
        N_("(then publish the SHA-256 it prints, roll the dice in public, and run draw)"),
    ],
    "alternates": [
        "sortition alternates --record panel/record.json --pool respondents.csv --budget 12 \\",
        "    --dropout-rate 0.1 --seed alternates-2026 --pseudonym-key pseudonyms.key \\",
        "    --out alternates/",
    ],
    "verify": [
        "sortition verify panel/record.json --pool respondents.csv --quotas categories.csv",
        "sortition verify letters/record.json --registry register.csv",
    ],
    "audit": [
        "sortition audit --pool respondents.csv --quotas categories.csv -k 60 \\",
        "    --seed audit-2025 --out audit/",
    ],
    "new-key": ["sortition new-key pseudonyms.key"],
    "pseudonym": ["sortition pseudonym --pseudonym-key pseudonyms.key --id ada@example.org"],
    "demo": ["sortition demo --out sortition-demo/"],
    "generate": [
        "sortition generate --preset realistic7 --n 1000 -k 150 --seed bench --out pool-1k/"
    ],
    "invite": [
        "sortition invite --registry register.csv --letters 30000 \\",
        '    --household-columns address,postcode --stratify-by area --dice "4,1,6,2,5" \\',
        "    --out letters/",
    ],
    "match": [
        "sortition match --invitations letters/invitations.csv --registrations answers.csv \\",
        "    --on address,postcode --out stage2/",
    ],
    "groups": [
        "sortition groups --panel panel/selected.csv --size 6 --rounds 5 \\",
        "    --balance gender,age,region --apart organisation --pseudonym-key pseudonyms.key \\",
        "    --seed cafe-2025 --out tables/",
    ],
    "serve": ["sortition serve --data projects/ --lang he"],
    "generate-registry": [
        "sortition generate-registry --rows 100000 --seed bench --format parquet --out reg/"
    ],
}


def epilog(command: str) -> str:
    """The --help epilog of ``command``; ``\\b`` keeps click from re-wrapping the lines."""
    return "\b\n" + N_("Example:") + "\n" + "\n".join(f"  {line}" for line in EXAMPLES[command])
