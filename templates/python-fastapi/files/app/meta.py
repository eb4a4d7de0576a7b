"""Display texts of the application, taken from issue #[[ issue.number ]].

These strings come from the issue as written; templates print them auto-escaped.
"""

APP_NAME = [[ app.name | py ]]
APP_SUMMARY = [[ app.summary | py ]]
ISSUE_NUMBER = [[ issue.number ]]
ISSUE_URL = [[ issue.url | py ]]
REQUESTED_FEATURES: list[str] = [[ app.requested_features | py ]]

# Optional features of the generator's spec.
CSV_EXPORT = [[ app.features.csv_export | py ]]
