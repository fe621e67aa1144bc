#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <mlctl/core/error.hpp>
#include <mlctl/train/eval_metrics.hpp>

using mlctl::Error;
using mlctl::ErrorKind;
using namespace mlctl::train;

namespace {

// One-hot-ish probabilities that make `predicted` the argmax of each row.
std::vector<float> probabilities_for(const std::vector<int>& predicted, int num_classes) {
  std::vector<float> probabilities(predicted.size() * static_cast<std::size_t>(num_classes),
                                   0.1f / static_cast<float>(num_classes - 1));
  for (std::size_t row = 0; row < predicted.size(); ++row) {
    probabilities[row * static_cast<std::size_t>(num_classes) +
                  static_cast<std::size_t>(predicted[row])] = 0.9f;
  }
  return probabilities;
}

template <typename F>
ErrorKind kind_of_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no mlctl::Error thrown");
  return ErrorKind::internal;
}

}  // namespace

// The 3-class example of sklearn's precision_score / recall_score /
// f1_score documentation:
//   y_true = [0, 1, 2, 0, 1, 2]; y_pred = [0, 2, 1, 0, 0, 1]
//   precision_score(y_true, y_pred, average='macro') == 0.2222222222222222
//   recall_score(y_true, y_pred, average='macro')    == 0.3333333333333333
//   f1_score(y_true, y_pred, average='macro')        == 0.26666666666666666
//   f1_score(y_true, y_pred, average=None)           == [0.8, 0. , 0. ]
TEST_CASE("eval metrics: macro precision, recall and F1 match sklearn on a 3-class example",
          "[eval-metrics]") {
  const std::vector<int> labels = {0, 1, 2, 0, 1, 2};
  const std::vector<int> predicted = {0, 2, 1, 0, 0, 1};
  const PrecisionRecallF1 scores = precision_recall_f1(labels, predicted, 3);
  CHECK(scores.precision_macro == Approx(0.2222222222222222));
  CHECK(scores.recall_macro == Approx(0.3333333333333333));
  CHECK(scores.f1_macro == Approx(0.26666666666666666));
  // By hand: class 0 has tp 2, fp 1, fn 0 -> P 2/3, R 1, F1 0.8.
  CHECK(scores.precision[0] == Approx(2.0 / 3.0));
  CHECK(scores.recall[0] == 1.0);
  CHECK(scores.f1[0] == Approx(0.8));
  CHECK(scores.f1[1] == 0.0);
  CHECK(scores.f1[2] == 0.0);
  CHECK(scores.support == std::vector<std::int64_t>{2, 2, 2});
  // accuracy_score(y_true, y_pred) == 0.3333333333333333
  CHECK(accuracy(labels, predicted) == Approx(1.0 / 3.0));
}

// sklearn's confusion_matrix documentation:
//   confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
//   array([[2, 0, 0], [0, 0, 1], [1, 0, 2]])
TEST_CASE("eval metrics: confusion matrix has true classes as rows, as sklearn", "[eval-metrics]") {
  const ConfusionMatrix matrix =
      confusion_matrix(std::vector<int>{2, 0, 2, 2, 0, 1}, std::vector<int>{0, 0, 2, 2, 0, 2}, 3);
  CHECK(matrix.counts == std::vector<std::int64_t>{2, 0, 0, 0, 0, 1, 1, 0, 2});
  CHECK(matrix.at(1, 2) == 1);
  CHECK(matrix.to_json().dump() == "[[2,0,0],[0,0,1],[1,0,2]]");
}

TEST_CASE("eval metrics: a class absent from labels and predictions is left out of macro means",
          "[eval-metrics]") {
  // Same as the 3-class example with a fourth class nobody uses: sklearn
  // (labels=None) averages over the 3 classes it sees.
  const PrecisionRecallF1 scores = precision_recall_f1(std::vector<int>{0, 1, 2, 0, 1, 2},
                                                       std::vector<int>{0, 2, 1, 0, 0, 1}, 4);
  CHECK(scores.f1_macro == Approx(0.26666666666666666));
  CHECK(scores.support[3] == 0);
  CHECK(scores.precision[3] == 0.0);
}

TEST_CASE("eval metrics: zero division counts as zero, as sklearn's zero_division=0",
          "[eval-metrics]") {
  // Class 1 is never predicted: precision 0/0 -> 0, recall 0/2 -> 0.
  // precision_score([0, 0, 1, 1], [0, 0, 0, 0], average='macro',
  //                 zero_division=0) == 0.25   (class 0: 2/4)
  // recall_score(..., average='macro') == 0.5; f1_score(...) == 0.3333333333333333
  const PrecisionRecallF1 scores =
      precision_recall_f1(std::vector<int>{0, 0, 1, 1}, std::vector<int>{0, 0, 0, 0}, 2);
  CHECK(scores.precision_macro == Approx(0.25));
  CHECK(scores.recall_macro == Approx(0.5));
  CHECK(scores.f1_macro == Approx(1.0 / 3.0));
}

// roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
// roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], drop_intermediate=False)
//   fpr [0. , 0. , 0.5, 0.5, 1. ], tpr [0. , 0.5, 0.5, 1. , 1. ],
//   thresholds [inf, 0.8, 0.4, 0.35, 0.1]
TEST_CASE("eval metrics: ROC AUC and curve match sklearn's example", "[eval-metrics]") {
  const std::vector<int> labels = {0, 0, 1, 1};
  const std::vector<float> scores = {0.1f, 0.4f, 0.35f, 0.8f};
  CHECK(roc_auc(labels, scores) == 0.75);
  const RocCurve roc = roc_curve(labels, scores);
  CHECK(roc.fpr == std::vector<double>{0.0, 0.0, 0.5, 0.5, 1.0});
  CHECK(roc.tpr == std::vector<double>{0.0, 0.5, 0.5, 1.0, 1.0});
  REQUIRE(roc.thresholds.size() == 5);
  CHECK(std::isinf(roc.thresholds[0]));
  CHECK(roc.thresholds[1] == static_cast<double>(0.8f));
  CHECK(roc.thresholds[4] == static_cast<double>(0.1f));
  const mlctl::Json json = roc.to_json();
  CHECK(json["thresholds"][0] == "Infinity");
  CHECK(json["fpr"].size() == 5);
}

TEST_CASE("eval metrics: tied scores count half in ROC AUC", "[eval-metrics]") {
  // roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
  CHECK(roc_auc(std::vector<int>{0, 1, 0, 1}, std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}) == 0.5);
  // By hand (Mann-Whitney): positives 0.6, 0.9, 0.1 against negatives 0.2,
  // 0.6 win 1 + 0.5 + 2 + 0 = 3.5 of 6 pairs.
  // roc_auc_score([0, 0, 1, 1, 1], [0.2, 0.6, 0.6, 0.9, 0.1]) == 0.5833333333333334
  const std::vector<int> labels = {0, 0, 1, 1, 1};
  const std::vector<float> scores = {0.2f, 0.6f, 0.6f, 0.9f, 0.1f};
  CHECK(roc_auc(labels, scores) == Approx(3.5 / 6.0));
  // One curve point per distinct score: inf, 0.9, 0.6, 0.2, 0.1.
  const RocCurve roc = roc_curve(labels, scores);
  CHECK(roc.tpr == std::vector<double>{0.0, 1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 1.0});
  CHECK(roc.fpr == std::vector<double>{0.0, 0.0, 0.5, 1.0, 1.0});
  // A perfect and a reversed ranking.
  CHECK(roc_auc(std::vector<int>{0, 1}, std::vector<float>{0.1f, 0.9f}) == 1.0);
  CHECK(roc_auc(std::vector<int>{0, 1}, std::vector<float>{0.9f, 0.1f}) == 0.0);
}

TEST_CASE("eval metrics: ROC is undefined for a single class", "[eval-metrics]") {
  CHECK(kind_of_error([] {
          roc_auc(std::vector<int>{1, 1}, std::vector<float>{0.2f, 0.3f});
        }) == ErrorKind::invalid_argument);
  CHECK_THROWS_WITH(roc_curve(std::vector<int>{0, 0}, std::vector<float>{0.2f, 0.3f}),
                    "ROC is undefined when only class 0 is present in the labels");
  CHECK_THROWS_WITH(roc_auc(std::vector<int>{0, 2}, std::vector<float>{0.2f, 0.3f}),
                    "labels[1] is 2; a binary ROC needs labels 0 and 1");
  CHECK_THROWS_WITH(roc_auc(std::vector<int>{0, 1},
                            std::vector<float>{0.2f, std::numeric_limits<float>::quiet_NaN()}),
                    "scores[1] is not finite (nan)");
}

// log_loss(["spam", "ham", "ham", "spam"],
//          [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) == 0.21616187468057912
TEST_CASE("eval metrics: log loss matches sklearn's example and clips at 1e-15", "[eval-metrics]") {
  // Classes sorted as sklearn does: ham = 0, spam = 1.
  const std::vector<int> labels = {1, 0, 0, 1};
  const std::vector<float> probabilities = {.1f, .9f, .9f, .1f, .8f, .2f, .35f, .65f};
  CHECK(log_loss(labels, probabilities, 2) == Approx(0.21616187468057912).epsilon(1e-6));
  // A certain, wrong prediction costs -log(1e-15), not infinity.
  CHECK(log_loss(std::vector<int>{0}, std::vector<float>{0.0f, 1.0f}, 2) ==
        Approx(34.538776394910684));
  CHECK(log_loss(std::vector<int>{1}, std::vector<float>{0.0f, 1.0f}, 2) ==
        Approx(1e-15).margin(1e-14));
}

TEST_CASE("eval metrics: argmax ties go to the lower class", "[eval-metrics]") {
  CHECK(predict_classes(std::vector<float>{0.5f, 0.5f, 0.2f, 0.3f, 0.3f, 0.4f}, 3) ==
        std::vector<int>{0, 2});
}

TEST_CASE("eval metrics: classification report bundles the metrics of a binary task",
          "[eval-metrics]") {
  const std::vector<int> labels = {0, 0, 1, 1};
  // P(class 1) = 0.1, 0.4, 0.35, 0.8 -> predictions 0, 0, 0, 1.
  const std::vector<float> probabilities = {0.9f, 0.1f, 0.6f, 0.4f, 0.65f, 0.35f, 0.2f, 0.8f};
  const ClassificationReport report = classification_metrics(labels, probabilities, 2);
  CHECK(report.num_samples == 4);
  CHECK(report.accuracy == 0.75);
  REQUIRE(report.roc_auc.has_value());
  CHECK(*report.roc_auc == 0.75);
  REQUIRE(report.roc.has_value());
  CHECK(report.confusion.counts == std::vector<std::int64_t>{2, 0, 1, 1});
  // class 0: P 2/3, R 1, F1 0.8; class 1: P 1, R 0.5, F1 2/3.
  CHECK(report.scores.f1_macro == Approx((0.8 + 2.0 / 3.0) / 2));

  const mlctl::Json json = report.to_json();
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"num_samples", "num_classes", "accuracy",
                                         "precision_macro", "recall_macro", "f1_macro", "log_loss",
                                         "roc_auc", "per_class", "confusion_matrix", "roc_curve"});
  CHECK(json["roc_auc"] == 0.75);
  CHECK(json["per_class"][1]["support"] == 2);
  CHECK(json["confusion_matrix"].dump() == "[[2,0],[1,1]]");
}

TEST_CASE("eval metrics: report of a single-class split has a null ROC AUC", "[eval-metrics]") {
  const ClassificationReport report =
      classification_metrics(std::vector<int>{1, 1}, std::vector<float>{0.3f, 0.7f, 0.6f, 0.4f}, 2);
  CHECK_FALSE(report.roc_auc.has_value());
  CHECK(report.accuracy == 0.5);
  const mlctl::Json json = report.to_json();
  CHECK(json["roc_auc"].is_null());
  CHECK_FALSE(json.contains("roc_curve"));
}

TEST_CASE("eval metrics: multiclass report has no ROC", "[eval-metrics]") {
  const std::vector<int> labels = {0, 1, 2, 0, 1, 2};
  const ClassificationReport report =
      classification_metrics(labels, probabilities_for({0, 2, 1, 0, 0, 1}, 3), 3);
  CHECK(report.scores.f1_macro == Approx(0.26666666666666666));
  CHECK_FALSE(report.roc_auc.has_value());
  CHECK_FALSE(report.to_json().contains("roc_auc"));
}

TEST_CASE("eval metrics: bad sizes, labels and values are invalid arguments", "[eval-metrics]") {
  CHECK_THROWS_WITH(
      classification_metrics(std::vector<int>{0, 1}, std::vector<float>{0.5f, 0.5f}, 2),
      "probabilities has 2 entries; expected 2 rows x 2 classes = 4");
  CHECK_THROWS_WITH(classification_metrics(std::vector<int>{0, 3}, std::vector<float>(4, 0.5f), 2),
                    "labels[1] is 3, outside the classes 0..1");
  CHECK_THROWS_WITH(classification_metrics(std::vector<int>{0}, std::vector<float>{0.5f}, 1),
                    "num_classes must be at least 2, got 1");
  CHECK_THROWS_WITH(
      classification_metrics(std::vector<int>{0}, std::vector<float>{std::nanf(""), 0.5f}, 2),
      "probability of row 0 class 0 is not finite (nan)");
  CHECK_THROWS_WITH(accuracy(std::vector<int>{}, std::vector<int>{}),
                    "cannot compute metrics over zero rows");
  CHECK_THROWS_WITH(accuracy(std::vector<int>{0, 1}, std::vector<int>{0}),
                    "predictions has 1 entries but there are 2 labels");
  CHECK(kind_of_error([] { confusion_matrix(std::vector<int>{0}, std::vector<int>{-1}, 2); }) ==
        ErrorKind::invalid_argument);
  CHECK_THROWS_WITH(regression_metrics(std::vector<double>{1.0}, std::vector<double>{1.0, 2.0}),
                    "predictions has 2 entries but there are 1 targets");
}

// sklearn's documentation examples:
//   y_true = [3, -0.5, 2, 7]; y_pred = [2.5, 0.0, 2, 8]
//   r2_score(y_true, y_pred)            == 0.9486081370449679
//   mean_absolute_error(y_true, y_pred) == 0.5
//   mean_squared_error(y_true, y_pred)  == 0.375
TEST_CASE("eval metrics: regression metrics match sklearn's examples", "[eval-metrics]") {
  const RegressionMetrics metrics =
      regression_metrics(std::vector<double>{3, -0.5, 2, 7}, std::vector<double>{2.5, 0.0, 2, 8});
  CHECK(metrics.r2 == Approx(0.9486081370449679));
  CHECK(metrics.mae == 0.5);
  CHECK(metrics.rmse == Approx(std::sqrt(0.375)));
  CHECK(metrics.num_samples == 4);
  CHECK(metrics.to_json()["mae"] == 0.5);

  // r2_score([1, 2, 3], [3, 2, 1]) == -3.0; r2_score([1, 2, 3], [2, 2, 2]) == 0.0
  CHECK(regression_metrics(std::vector<double>{1, 2, 3}, std::vector<double>{3, 2, 1}).r2 ==
        Approx(-3.0));
  CHECK(regression_metrics(std::vector<double>{1, 2, 3}, std::vector<double>{2, 2, 2}).r2 == 0.0);
  // Float inputs, as a tensor gives them.
  CHECK(regression_metrics(std::vector<float>{1, 2, 3}, std::vector<float>{1, 2, 3}).r2 == 1.0);
}

// r2_score([-2, -2, -2], [-2, -2, -2])        == 1.0
// r2_score([-2, -2, -2], [-2, -2, -2 + 1e-8]) == 0.0   (force_finite=True)
TEST_CASE("eval metrics: r2 of a constant target is 1 when perfect and 0 otherwise",
          "[eval-metrics]") {
  CHECK(regression_metrics(std::vector<double>{-2, -2, -2}, std::vector<double>{-2, -2, -2}).r2 ==
        1.0);
  CHECK(regression_metrics(std::vector<double>{-2, -2, -2}, std::vector<double>{-2, -2, -2 + 1e-8})
            .r2 == 0.0);
}
