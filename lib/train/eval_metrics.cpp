#include <mlctl/train/eval_metrics.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mlctl::train {

namespace {

constexpr double k_log_loss_eps = 1e-15;

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::invalid_argument, message);
}

void check_num_classes(int num_classes, int minimum) {
  if (num_classes < minimum) {
    invalid(fmt::format("num_classes must be at least {}, got {}", minimum, num_classes));
  }
}

void check_same_size(std::size_t labels, std::size_t other, const char* other_name) {
  if (labels == 0) invalid("cannot compute metrics over zero rows");
  if (labels != other) {
    invalid(fmt::format("{} has {} entries but there are {} labels", other_name, other, labels));
  }
}

void check_classes(std::span<const int> values, int num_classes, const char* name) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0 || values[i] >= num_classes) {
      invalid(fmt::format("{}[{}] is {}, outside the classes 0..{}", name, i, values[i],
                          num_classes - 1));
    }
  }
}

void check_probabilities(std::span<const int> labels, std::span<const float> probabilities,
                         int num_classes) {
  check_num_classes(num_classes, 1);
  if (labels.empty()) invalid("cannot compute metrics over zero rows");
  const auto k = static_cast<std::size_t>(num_classes);
  if (probabilities.size() != labels.size() * k) {
    invalid(fmt::format("probabilities has {} entries; expected {} rows x {} classes = {}",
                        probabilities.size(), labels.size(), num_classes, labels.size() * k));
  }
  for (std::size_t i = 0; i < probabilities.size(); ++i) {
    if (!std::isfinite(probabilities[i])) {
      invalid(fmt::format("probability of row {} class {} is not finite ({})", i / k, i % k,
                          probabilities[i]));
    }
  }
  check_classes(labels, num_classes, "labels");
}

double ratio(std::int64_t numerator, std::int64_t denominator) {
  // zero_division=0, as sklearn's default outcome (minus its warning).
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

// Rows sorted by decreasing score with the cumulative (fp, tp) counts at
// each distinct score, the shape of sklearn's _binary_clf_curve.
struct BinaryCurve {
  std::vector<std::int64_t> fps;
  std::vector<std::int64_t> tps;
  std::vector<double> thresholds;
};

BinaryCurve binary_curve(std::span<const int> labels, std::span<const float> scores) {
  check_same_size(labels.size(), scores.size(), "scores");
  std::int64_t positives = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) {
      invalid(fmt::format("labels[{}] is {}; a binary ROC needs labels 0 and 1", i, labels[i]));
    }
    if (!std::isfinite(scores[i])) {
      invalid(fmt::format("scores[{}] is not finite ({})", i, scores[i]));
    }
    positives += labels[i];
  }
  const auto negatives = static_cast<std::int64_t>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) {
    invalid(fmt::format("ROC is undefined when only class {} is present in the labels",
                        positives == 0 ? 0 : 1));
  }

  std::vector<std::uint32_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return scores[a] > scores[b]; });

  BinaryCurve curve;
  std::int64_t tp = 0;
  std::int64_t fp = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (labels[order[i]] == 1) {
      ++tp;
    } else {
      ++fp;
    }
    // A point only where the score changes, so tied rows form one step.
    if (i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]]) {
      curve.fps.push_back(fp);
      curve.tps.push_back(tp);
      curve.thresholds.push_back(static_cast<double>(scores[order[i]]));
    }
  }
  return curve;
}

template <typename T>
RegressionMetrics regression_metrics_impl(std::span<const T> targets,
                                          std::span<const T> predictions) {
  if (targets.empty()) invalid("cannot compute metrics over zero rows");
  if (targets.size() != predictions.size()) {
    invalid(fmt::format("predictions has {} entries but there are {} targets", predictions.size(),
                        targets.size()));
  }
  const auto n = static_cast<double>(targets.size());
  double sum = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!std::isfinite(targets[i])) invalid(fmt::format("targets[{}] is not finite", i));
    if (!std::isfinite(predictions[i])) invalid(fmt::format("predictions[{}] is not finite", i));
    sum += static_cast<double>(targets[i]);
  }
  const double mean = sum / n;
  double squared_error = 0;
  double absolute_error = 0;
  double total = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const double y = static_cast<double>(targets[i]);
    const double residual = y - static_cast<double>(predictions[i]);
    squared_error += residual * residual;
    absolute_error += std::abs(residual);
    total += (y - mean) * (y - mean);
  }
  RegressionMetrics metrics;
  metrics.num_samples = static_cast<std::int64_t>(targets.size());
  metrics.rmse = std::sqrt(squared_error / n);
  metrics.mae = absolute_error / n;
  if (total == 0) {
    // sklearn's force_finite=True: avoids NaN / -inf for a constant target.
    metrics.r2 = squared_error == 0 ? 1.0 : 0.0;
  } else {
    metrics.r2 = 1.0 - squared_error / total;
  }
  return metrics;
}

}  // namespace

Json ConfusionMatrix::to_json() const {
  Json rows = Json::array();
  for (int t = 0; t < num_classes; ++t) {
    Json row = Json::array();
    for (int p = 0; p < num_classes; ++p) row.push_back(at(t, p));
    rows.push_back(std::move(row));
  }
  return rows;
}

Json PrecisionRecallF1::to_json() const {
  Json per_class = Json::array();
  for (std::size_t c = 0; c < precision.size(); ++c) {
    per_class.push_back({{"class", c},
                         {"precision", precision[c]},
                         {"recall", recall[c]},
                         {"f1", f1[c]},
                         {"support", support[c]}});
  }
  return {{"precision_macro", precision_macro},
          {"recall_macro", recall_macro},
          {"f1_macro", f1_macro},
          {"per_class", std::move(per_class)}};
}

Json RocCurve::to_json() const {
  Json json_thresholds = Json::array();
  for (double t : thresholds) {
    if (std::isinf(t)) {
      json_thresholds.push_back(t > 0 ? "Infinity" : "-Infinity");
    } else {
      json_thresholds.push_back(t);
    }
  }
  return {{"fpr", fpr}, {"tpr", tpr}, {"thresholds", std::move(json_thresholds)}};
}

Json ClassificationReport::to_json() const {
  Json json = {{"num_samples", num_samples},
               {"num_classes", num_classes},
               {"accuracy", accuracy},
               {"precision_macro", scores.precision_macro},
               {"recall_macro", scores.recall_macro},
               {"f1_macro", scores.f1_macro},
               {"log_loss", log_loss}};
  if (num_classes == 2) json["roc_auc"] = roc_auc ? Json(*roc_auc) : Json(nullptr);
  json["per_class"] = scores.to_json()["per_class"];
  json["confusion_matrix"] = confusion.to_json();
  if (roc) json["roc_curve"] = roc->to_json();
  return json;
}

Json RegressionMetrics::to_json() const {
  return {{"num_samples", num_samples}, {"rmse", rmse}, {"mae", mae}, {"r2", r2}};
}

std::vector<int> predict_classes(std::span<const float> probabilities, int num_classes) {
  check_num_classes(num_classes, 1);
  const auto k = static_cast<std::size_t>(num_classes);
  if (probabilities.size() % k != 0) {
    invalid(fmt::format("probabilities has {} entries, not a multiple of {} classes",
                        probabilities.size(), num_classes));
  }
  std::vector<int> predicted(probabilities.size() / k);
  for (std::size_t row = 0; row < predicted.size(); ++row) {
    const float* p = probabilities.data() + row * k;
    // max_element keeps the first maximum: ties go to the lower class.
    predicted[row] = static_cast<int>(std::max_element(p, p + k) - p);
  }
  return predicted;
}

double accuracy(std::span<const int> labels, std::span<const int> predicted) {
  check_same_size(labels.size(), predicted.size(), "predictions");
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += labels[i] == predicted[i] ? 1 : 0;
  return ratio(correct, static_cast<std::int64_t>(labels.size()));
}

ConfusionMatrix confusion_matrix(std::span<const int> labels, std::span<const int> predicted,
                                 int num_classes) {
  check_num_classes(num_classes, 1);
  check_same_size(labels.size(), predicted.size(), "predictions");
  check_classes(labels, num_classes, "labels");
  check_classes(predicted, num_classes, "predictions");
  ConfusionMatrix matrix;
  matrix.num_classes = num_classes;
  const auto k = static_cast<std::size_t>(num_classes);
  matrix.counts.assign(k * k, 0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto t = static_cast<std::size_t>(labels[i]);
    const auto p = static_cast<std::size_t>(predicted[i]);
    ++matrix.counts[t * k + p];
  }
  return matrix;
}

PrecisionRecallF1 precision_recall_f1(std::span<const int> labels, std::span<const int> predicted,
                                      int num_classes) {
  const ConfusionMatrix matrix = confusion_matrix(labels, predicted, num_classes);
  const auto k = static_cast<std::size_t>(num_classes);
  PrecisionRecallF1 scores;
  scores.precision.resize(k);
  scores.recall.resize(k);
  scores.f1.resize(k);
  scores.support.resize(k);
  int present = 0;
  for (int c = 0; c < num_classes; ++c) {
    std::int64_t actual = 0;       // tp + fn
    std::int64_t predicted_c = 0;  // tp + fp
    for (int other = 0; other < num_classes; ++other) {
      actual += matrix.at(c, other);
      predicted_c += matrix.at(other, c);
    }
    const std::int64_t tp = matrix.at(c, c);
    const auto i = static_cast<std::size_t>(c);
    scores.support[i] = actual;
    scores.precision[i] = ratio(tp, predicted_c);
    scores.recall[i] = ratio(tp, actual);
    scores.f1[i] = ratio(2 * tp, actual + predicted_c);
    if (actual + predicted_c > 0) {
      ++present;
      scores.precision_macro += scores.precision[i];
      scores.recall_macro += scores.recall[i];
      scores.f1_macro += scores.f1[i];
    }
  }
  // present >= 1: there is at least one row, so some class occurs.
  scores.precision_macro /= present;
  scores.recall_macro /= present;
  scores.f1_macro /= present;
  return scores;
}

double log_loss(std::span<const int> labels, std::span<const float> probabilities,
                int num_classes) {
  check_probabilities(labels, probabilities, num_classes);
  const auto k = static_cast<std::size_t>(num_classes);
  double total = 0;
  for (std::size_t row = 0; row < labels.size(); ++row) {
    const double p = probabilities[row * k + static_cast<std::size_t>(labels[row])];
    total -= std::log(std::clamp(p, k_log_loss_eps, 1.0 - k_log_loss_eps));
  }
  return total / static_cast<double>(labels.size());
}

RocCurve roc_curve(std::span<const int> labels, std::span<const float> scores) {
  const BinaryCurve curve = binary_curve(labels, scores);
  const auto negatives = static_cast<double>(curve.fps.back());
  const auto positives = static_cast<double>(curve.tps.back());
  RocCurve roc;
  const std::size_t points = curve.fps.size() + 1;
  roc.fpr.reserve(points);
  roc.tpr.reserve(points);
  roc.thresholds.reserve(points);
  roc.fpr.push_back(0.0);
  roc.tpr.push_back(0.0);
  roc.thresholds.push_back(std::numeric_limits<double>::infinity());
  for (std::size_t i = 0; i < curve.fps.size(); ++i) {
    roc.fpr.push_back(static_cast<double>(curve.fps[i]) / negatives);
    roc.tpr.push_back(static_cast<double>(curve.tps[i]) / positives);
    roc.thresholds.push_back(curve.thresholds[i]);
  }
  return roc;
}

double roc_auc(std::span<const int> labels, std::span<const float> scores) {
  const BinaryCurve curve = binary_curve(labels, scores);
  // Twice the area in units of one negative x one positive: each step adds
  // dfp * (tp_before + tp_after), an exact integer (n^2 fits in 64 bits for
  // any split we can hold in memory).
  std::int64_t doubled_area = 0;
  std::int64_t previous_fp = 0;
  std::int64_t previous_tp = 0;
  for (std::size_t i = 0; i < curve.fps.size(); ++i) {
    doubled_area += (curve.fps[i] - previous_fp) * (curve.tps[i] + previous_tp);
    previous_fp = curve.fps[i];
    previous_tp = curve.tps[i];
  }
  return static_cast<double>(doubled_area) /
         (2.0 * static_cast<double>(curve.fps.back()) * static_cast<double>(curve.tps.back()));
}

ClassificationReport classification_metrics(std::span<const int> labels,
                                            std::span<const float> probabilities, int num_classes) {
  check_num_classes(num_classes, 2);
  check_probabilities(labels, probabilities, num_classes);
  const std::vector<int> predicted = predict_classes(probabilities, num_classes);

  ClassificationReport report;
  report.num_samples = static_cast<std::int64_t>(labels.size());
  report.num_classes = num_classes;
  report.accuracy = accuracy(labels, predicted);
  report.log_loss = log_loss(labels, probabilities, num_classes);
  report.scores = precision_recall_f1(labels, predicted, num_classes);
  report.confusion = confusion_matrix(labels, predicted, num_classes);
  if (num_classes == 2) {
    const bool both_present = report.scores.support[0] > 0 && report.scores.support[1] > 0;
    if (both_present) {
      std::vector<float> positive_scores(labels.size());
      for (std::size_t row = 0; row < labels.size(); ++row) {
        positive_scores[row] = probabilities[row * 2 + 1];
      }
      report.roc_auc = roc_auc(labels, positive_scores);
      report.roc = roc_curve(labels, positive_scores);
    }
  }
  return report;
}

RegressionMetrics regression_metrics(std::span<const double> targets,
                                     std::span<const double> predictions) {
  return regression_metrics_impl(targets, predictions);
}

RegressionMetrics regression_metrics(std::span<const float> targets,
                                     std::span<const float> predictions) {
  return regression_metrics_impl(targets, predictions);
}

}  // namespace mlctl::train
