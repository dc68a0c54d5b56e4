#!/usr/bin/env bash
# Translations. The .mo files are not in git; create_app() also compiles them when missing or stale.
#   scripts/compile_translations.sh           compile app/translations/*/LC_MESSAGES/messages.po → .mo
#   scripts/compile_translations.sh extract   re-extract our strings into app/translations/messages.pot
#                                             and merge them into the English catalogue (then translate
#                                             the new empty msgstr entries in en/LC_MESSAGES/messages.po;
#                                             tests/services/test_error_catalogue.py checks the raised ones)
# translations/zh holds only Flask-AppBuilder's English strings (our source strings are Chinese), so
# extraction never touches it. Call pybabel directly: `flask fab babel-extract` hides its failures.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
if [ "${1:-}" = "extract" ]; then
  # Service refusals: every DomainError subclass is a keyword (its message id; `Name:2` where __init__
  # takes the message second), and services/errors.N_ marks ids that are not raised directly.
  # shellcheck disable=SC2046
  "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k _mark $(.venv/bin/python scripts/error_keywords.py) \
    --add-location=file --sort-by-file --project cme -o app/translations/messages.pot .
  "$PYBABEL" update -i app/translations/messages.pot -d app/translations -l en --no-fuzzy-matching \
    --ignore-obsolete
fi
"$PYBABEL" compile -d app/translations --statistics
