#!/bin/sh
# The whole lifecycle on the churn table, end to end:
#   register data -> tune and train through pipelines/retrain.yml ->
#   register and alias -> serve -> score -> watch for drift ->
#   (shifted traffic) drift found -> retrain on new labelled data ->
#   compare the challenger with the champion -> promote or keep.
# MLCTL names the binary; DRIFT_PROJECT keeps the project somewhere known.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
mlctl=${MLCTL:-mlctl}
project=${DRIFT_PROJECT:-$(mktemp -d /tmp/mlctl-drift-XXXXXX)}
table="$root/examples/churn/data/breast_cancer.csv"

"$mlctl" init "$project" -o tsv --query path >/dev/null
export MLCTL_PROJECT="$project"
# Services run in the background: stop them however the script ends.
cleanup() {
  for service in churn-api churn-staging; do "$mlctl" service delete "$service" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

echo "== the data: two rows of three to train on, every third row as the test split"
awk 'NR == 1 || NR % 3 != 1' "$table" > "$project/train.csv"
awk 'NR == 1 || NR % 3 == 1' "$table" > "$project/test.csv"
# Later traffic from another population: the ten mean_* measurements 1.5
# times larger. Its labels become known, so it is registered as new data.
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { for (i = 1; i <= 10; i++) $i = $i * 1.5; print }' \
  "$project/test.csv" > "$project/shifted.csv"
"$mlctl" data register --name churn --path "$project/train.csv" --label diagnosis -o tsv --query ref
"$mlctl" data register --name churn-holdout --path "$project/test.csv" --label diagnosis -o tsv --query ref

echo "== publish pipelines/retrain.yml and train the first model with it"
"$mlctl" pipeline publish -f "$root/pipelines/retrain.yml" --name retrain -o tsv --query ref
"$mlctl" pipeline run --published retrain --set data=azureml:churn:1 --set holdout=azureml:churn-holdout:1 \
  --set trials=2 -o table
echo "== release it: churn@production, served by churn-api"
"$mlctl" model alias set churn production 1 --reason "first release" -o tsv --query ref
"$mlctl" service create --name churn-api --model churn@production --env production --port 0 \
  -o yaml --query '{name: name, model: model, state: state, url: url}'

echo "== a monitor: drift in churn-api's traffic retrains with churn-new, the labelled new data"
"$mlctl" monitor create --name churn-drift --service churn-api --pipeline retrain --data churn-new \
  --set trials=2 -o tsv --query name

echo "== traffic from the test split"
"$mlctl" service run --name churn-api --input-file "$project/test.csv" -o tsv --query 'length(predictions)'
sleep 0.3  # the request log is written every 50 ms
"$mlctl" monitor check churn-drift -o yaml --query '{outcome: outcome, rows: rows, action: action}'

echo "== shifted traffic"
"$mlctl" service run --name churn-api --input-file "$project/shifted.csv" -o tsv --query 'length(predictions)'
sleep 0.3
"$mlctl" monitor drift --service churn-api --since 5s -o table --query "[?drifted=='yes'].{column: column, reason: reason}" || true
echo "== its labels are known now: churn-new:1; the monitor retrains"
"$mlctl" data register --name churn-new --path "$project/shifted.csv" --label diagnosis -o tsv --query ref
"$mlctl" monitor check churn-drift -o yaml --query '{outcome: outcome, rows: rows, drifted: drifted_columns, action: action}'

echo "== the outcome"
"$mlctl" monitor history churn-drift -o table
run=$("$mlctl" monitor history churn-drift -o tsv --query '[-1].pipeline_run_id')
"$mlctl" pipeline show "$run" -o table
if "$mlctl" model show churn@staging -o tsv --query version >/dev/null 2>&1 &&
  [ "$("$mlctl" model show churn@staging -o tsv --query version)" != "1" ]; then
  staged=$("$mlctl" model show churn@staging -o tsv --query ref)
  echo "promoted: the challenger $staged beat churn@production on the new data; it is churn@staging, served by churn-staging"
  "$mlctl" service show churn-staging -o yaml --query '{name: name, model: model, state: state}'
else
  echo "kept: the challenger did not beat churn@production; production is unchanged"
fi
"$mlctl" model alias history churn production -o table
echo "drift example project: $project"
