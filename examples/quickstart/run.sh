#!/bin/sh
# The quickstart, end to end: a project, two tracked runs of an az ml
# command job with different learning rates, then list, show and compare;
# then a registered dataset, native libtorch training, the model registry,
# a hyperparameter sweep, a champion/challenger comparison, batch scoring,
# and a real-time scoring service: created from the production alias,
# scored from the shell, and deleted.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mlctl=${MLCTL:-mlctl}
project=${QUICKSTART_PROJECT:-$(mktemp -d /tmp/mlctl-quickstart-XXXXXX)}

echo "== mlctl init $project"
"$mlctl" init "$project" -o yaml
export MLCTL_PROJECT="$project"

echo "== two runs of examples/quickstart/job.yml"
slow=$("$mlctl" experiment submit -f "$here/job.yml" --set inputs.learning_rate=0.05 -o tsv --query id)
fast=$("$mlctl" experiment submit -f "$here/job.yml" --set inputs.learning_rate=0.5 -o tsv --query id)

echo "== mlctl run list"
"$mlctl" run list --experiment quickstart -o table
echo "== mlctl run show $fast"
"$mlctl" run show "$fast" -o yaml --query '{id: id, status: status, params: params, metrics: metrics, artifacts: artifacts}'
echo "== mlctl run metrics $fast --name test_accuracy (last 3 points)"
"$mlctl" run metrics "$fast" --name test_accuracy -o table --query '[-3:]'
echo "== mlctl run compare $slow $fast"
"$mlctl" run compare "$slow" "$fast" -o table
echo "== best run by test accuracy"
"$mlctl" run list --experiment quickstart --filter "metrics.test_accuracy > 0.9" \
  --order-by "metrics.test_accuracy desc" --top 1 -o json --query '[0].{id: id, lr: params.learning_rate, accuracy: metrics.test_accuracy}'

examples=$(dirname "$here")
echo "== mlctl data register: the churn table as a versioned dataset"
"$mlctl" data register --name churn --path "$examples/churn/data/breast_cancer.csv" --label diagnosis \
  -o json --query '{ref: ref, rows: rows, columns: columns, sha256: sha256}'
echo "== native libtorch training of examples/churn/train.yml on churn:1"
trained=$("$mlctl" experiment submit -f "$examples/churn/train.yml" --set data.train=azureml:churn:1 -o tsv --query id)
"$mlctl" run show "$trained" -o yaml --query '{id: id, status: status, inputs: inputs, test_accuracy: metrics.test_accuracy, test_auc: metrics.test_auc, samples_per_second: metrics.samples_per_second}'
echo "== register the trained model as churn:1 and make it the production model"
"$mlctl" model register --name churn --run "$trained" --alias production -o yaml --query '{ref: ref, aliases: aliases, datasets: datasets, files: files[].path}'

echo "== hyperparameter sweep of the churn MLP (examples/churn/sweep.yml; 8 of its 20 trials here)"
sweep=$("$mlctl" experiment submit -f "$examples/churn/sweep.yml" --set limits.max_total_trials=8 -o tsv --query id)
"$mlctl" sweep show "$sweep" -o table
best_run=$("$mlctl" sweep best "$sweep" -o tsv --query run_id)

echo "== champion/challenger: the sweep's best model against churn@production"
challenger=$("$mlctl" model register --name churn --run "$best_run" -o tsv --query ref)
if "$mlctl" model compare --candidate "$challenger" --baseline churn@production --data churn:1 \
    --criteria "$examples/churn/criteria.yaml" -o markdown; then
  "$mlctl" model alias set churn production "${challenger#churn:}" --reason "passed examples/churn/criteria.yaml" -o tsv --query ref
else
  echo "(the challenger did not pass the criteria: production stays as it was)"
fi
"$mlctl" model alias history churn production -o table

echo "== mlctl model predict: batch scoring with churn@production and its saved preprocessing"
"$mlctl" model predict --model churn@production --input "$examples/churn/data/breast_cancer.csv" --output "$project/predictions.csv" -o yaml
head -4 "$project/predictions.csv"

echo "== mlctl service create: churn@production served over HTTP (production: key authentication)"
"$mlctl" service create --name churn-api --model churn@production --env production --port 0 \
  -o yaml --query '{name: name, model: model, state: state, scoring_uri: scoring_uri, auth: auth}'
# The service runs in the background: delete it however the script ends.
trap '"$mlctl" service delete churn-api -o tsv --query name >/dev/null 2>&1 || true' EXIT
head -4 "$examples/churn/data/breast_cancer.csv" > "$project/rows.csv"
echo "== mlctl service run: three rows of the churn table through the service"
"$mlctl" service run --name churn-api --input-file "$project/rows.csv" -o table
echo "== the same rows from batch scoring (model predict): the same predictions"
"$mlctl" model predict --model churn@production --input "$project/rows.csv" -o table
echo "== curl, with the service's key"
key=$("$mlctl" service keys churn-api -o tsv --query primary_key)
url=$("$mlctl" service show churn-api -o tsv --query url)
curl -s -H "Authorization: Bearer $key" "$url/score" \
  -d "{\"data\": [[$(sed -n 2p "$project/rows.csv" | cut -d, -f1-30)]]}" || echo "(curl is not installed)"
echo
"$mlctl" service delete churn-api -o tsv --query name >/dev/null
echo "quickstart project: $project"
