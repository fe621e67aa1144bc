#!/bin/sh
# The quickstart, end to end: a project, two tracked runs of an az ml
# command job with different learning rates, then list, show and compare.
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
echo "quickstart project: $project"
