#!/usr/bin/env bash
# Translations. The .mo files are not in git; create_app() also compiles them when missing or stale.
#   scripts/compile_translations.sh           compile app/translations/*/LC_MESSAGES/messages.po → .mo
#   scripts/compile_translations.sh extract   re-extract our strings into app/translations/messages.pot
#                                             and merge them into the English catalogue (then translate
#                                             the new empty msgstr entries in en/LC_MESSAGES/messages.po)
# translations/zh holds only Flask-AppBuilder's English strings (our source strings are Chinese), so
# extraction never touches it. Call pybabel directly: `flask fab babel-extract` hides its failures.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
if [ "${1:-}" = "extract" ]; then
  "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k _mark --add-location=file --sort-by-file \
    --project cme -o app/translations/messages.pot .
  "$PYBABEL" update -i app/translations/messages.pot -d app/translations -l en --no-fuzzy-matching \
    --ignore-obsolete
fi
"$PYBABEL" compile -d app/translations --statistics
