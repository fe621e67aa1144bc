#pragma once

// Evaluation metrics for trained models, computed over plain values so that
// they can be tested without a backend. The definitions follow scikit-learn
// (named per function) so that numbers reported by mlctl can be checked
// against a Python notebook.
//
// All functions are pure and thread-safe. They throw only mlctl::Error with
// kind invalid_argument, for inputs of mismatched sizes, labels outside
// [0, num_classes), non-finite scores, or an undefined metric (ROC with a
// single class).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <mlctl/core/json.hpp>

namespace mlctl::train {

// Counts of (true class, predicted class) pairs; rows are true classes,
// columns predicted classes, as sklearn's confusion_matrix.
struct ConfusionMatrix {
  int num_classes = 0;
  std::vector<std::int64_t> counts;  // row-major, num_classes * num_classes

  std::int64_t at(int true_class, int predicted_class) const {
    return counts[static_cast<std::size_t>(true_class) * static_cast<std::size_t>(num_classes) +
                  static_cast<std::size_t>(predicted_class)];
  }
  // [[c00, c01, ...], [c10, ...], ...]
  Json to_json() const;
};

// Per-class precision, recall and F1 with their macro averages, as sklearn's
// precision_recall_fscore_support with zero_division=0: a ratio whose
// denominator is zero is 0. F1 is 2tp / (2tp + fp + fn).
struct PrecisionRecallF1 {
  std::vector<double> precision;      // per class, indexed by class
  std::vector<double> recall;         // per class
  std::vector<double> f1;             // per class
  std::vector<std::int64_t> support;  // rows whose true class is the index
  // Unweighted means over the classes present in the labels or in the
  // predictions (sklearn's default labels=None); a class absent from both
  // has zeros above and is left out of the means.
  double precision_macro = 0;
  double recall_macro = 0;
  double f1_macro = 0;

  // {"precision_macro", "recall_macro", "f1_macro",
  //  "per_class": [{"class", "precision", "recall", "f1", "support"}, ...]}
  Json to_json() const;
};

// Points of the ROC curve of a binary task, as sklearn's roc_curve with
// drop_intermediate=False: one point per distinct score, in decreasing
// score order, preceded by (0, 0) at threshold +infinity.
struct RocCurve {
  std::vector<double> fpr;
  std::vector<double> tpr;
  std::vector<double> thresholds;  // thresholds[0] is +infinity

  // {"fpr": [...], "tpr": [...], "thresholds": [...]}; the infinite first
  // threshold is written as the string "Infinity" (JSON has no infinity;
  // the same spelling as the metrics file).
  Json to_json() const;
};

// Everything reported for a classifier on one split.
struct ClassificationReport {
  std::int64_t num_samples = 0;
  int num_classes = 0;
  double accuracy = 0;
  double log_loss = 0;
  PrecisionRecallF1 scores;
  ConfusionMatrix confusion;
  // Binary tasks only (num_classes == 2), scored by the probability of
  // class 1; nullopt for other tasks, and when the labels hold one class
  // only, where ROC is undefined.
  std::optional<double> roc_auc;
  std::optional<RocCurve> roc;

  // {"num_samples", "num_classes", "accuracy", "precision_macro",
  //  "recall_macro", "f1_macro", "log_loss", "roc_auc" (binary: a number or
  //  null), "per_class", "confusion_matrix", "roc_curve" (when defined)}.
  Json to_json() const;
};

// Regression metrics, as sklearn's mean_squared_error (square-rooted),
// mean_absolute_error and r2_score.
struct RegressionMetrics {
  std::int64_t num_samples = 0;
  double rmse = 0;
  double mae = 0;
  // 1 - SS_res / SS_tot. When the targets are constant (SS_tot == 0) it is
  // 1.0 for perfect predictions and 0.0 otherwise, as sklearn's default
  // force_finite=True.
  double r2 = 0;

  // {"num_samples", "rmse", "mae", "r2"}
  Json to_json() const;
};

// The most probable class of each row of a row-major `probabilities`
// matrix (labels-count × num_classes); ties go to the lower class, as
// numpy's argmax. Throws invalid_argument unless num_classes >= 1 and the
// size is a multiple of num_classes.
std::vector<int> predict_classes(std::span<const float> probabilities, int num_classes);

// Share of rows where predicted == labels (sklearn's accuracy_score).
// Throws invalid_argument for empty or mismatched inputs.
double accuracy(std::span<const int> labels, std::span<const int> predicted);

// Throws invalid_argument for empty or mismatched inputs, num_classes < 1,
// or a class outside [0, num_classes).
ConfusionMatrix confusion_matrix(std::span<const int> labels, std::span<const int> predicted,
                                 int num_classes);

// Same contract as confusion_matrix.
PrecisionRecallF1 precision_recall_f1(std::span<const int> labels, std::span<const int> predicted,
                                      int num_classes);

// Mean negative log-probability of the true class (sklearn's log_loss),
// with probabilities clipped to [1e-15, 1 - 1e-15]. Rows are expected to
// sum to 1; they are not renormalised. Throws invalid_argument for empty or
// mismatched inputs, bad labels or non-finite probabilities.
double log_loss(std::span<const int> labels, std::span<const float> probabilities, int num_classes);

// Binary ROC over `labels` in {0, 1} and `scores` (higher means class 1).
// Throws invalid_argument for empty or mismatched inputs, labels other than
// 0 and 1, non-finite scores, or labels of a single class (sklearn raises
// there too).
RocCurve roc_curve(std::span<const int> labels, std::span<const float> scores);

// Area under the ROC curve by the trapezoid rule (sklearn's roc_auc_score):
// tied scores form one step, counting half. Computed exactly from integer
// counts. Same contract as roc_curve.
double roc_auc(std::span<const int> labels, std::span<const float> scores);

// All of the above for one split. `probabilities` is row-major,
// labels.size() × num_classes. Throws invalid_argument as the functions it
// bundles, and for num_classes < 2.
ClassificationReport classification_metrics(std::span<const int> labels,
                                            std::span<const float> probabilities, int num_classes);

// Throws invalid_argument for empty or mismatched inputs or non-finite
// values.
RegressionMetrics regression_metrics(std::span<const double> targets,
                                     std::span<const double> predictions);
RegressionMetrics regression_metrics(std::span<const float> targets,
                                     std::span<const float> predictions);

}  // namespace mlctl::train
