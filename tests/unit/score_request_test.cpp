// Decoding scoring requests: the three dialects, type checks and the errors
// that name the row and column.
#include <catch2/catch.hpp>

#include <mlctl/serving/score_request.hpp>

using namespace mlctl;
using namespace mlctl::serving;
using Kind = train::InputCell::Kind;

namespace {

const std::vector<InputColumn> k_inputs = {
    {"age", data::ColumnType::numeric}, {"plan", data::ColumnType::categorical}, {"note", data::ColumnType::text}};

ScoreInput decode(std::string_view body, BodyDialect dialect = BodyDialect::mlctl, std::size_t max_rows = 100,
                  bool nulls = true) {
  return decode_score_request(body, dialect, k_inputs, max_rows, nulls);
}

BadRequest refusal(std::string_view body, BodyDialect dialect = BodyDialect::mlctl, std::size_t max_rows = 100,
                   bool nulls = true) {
  try {
    decode(body, dialect, max_rows, nulls);
  } catch (const BadRequest& bad) {
    return bad;
  }
  FAIL("the request was accepted: " << body);
  return {};
}

void check_first_row(const ScoreInput& input) {
  REQUIRE(input.rows == 2);
  REQUIRE(input.cells.size() == 6);
  CHECK(input.cells[0].kind == Kind::number);
  CHECK(input.cells[0].number == 42.5);
  CHECK(input.cells[1].kind == Kind::text);
  CHECK(input.cells[1].text == "gold");
  CHECK(input.cells[2].text == "hello there");
  CHECK(input.cells[3].kind == Kind::missing);
  CHECK(input.cells[4].text == "3");  // a number given for a category: its text
  CHECK(input.cells[5].kind == Kind::missing);
}

}  // namespace

TEST_CASE("score request: data rows and records give the same cells", "[serving]") {
  check_first_row(decode(R"({"data": [[42.5, "gold", "hello there"], [null, 3, null]]})"));
  check_first_row(decode(
      R"({"records": [{"note": "hello there", "age": 42.5, "plan": "gold"}, {"age": null, "plan": 3, "note": null}]})"));
}

TEST_CASE("score request: MLflow's dataframe_split, dataframe_records and instances", "[serving]") {
  check_first_row(decode(
      R"({"dataframe_split": {"columns": ["plan", "age", "note"], "data": [["gold", 42.5, "hello there"], [3, null, null]]}})",
      BodyDialect::mlflow));
  check_first_row(decode(
      R"({"dataframe_records": [{"age": 42.5, "plan": "gold", "note": "hello there"}, {"age": null, "plan": 3, "note": null}]})",
      BodyDialect::mlflow));
  check_first_row(decode(R"({"instances": [[42.5, "gold", "hello there"], {"age": null, "plan": 3, "note": null}]})",
                         BodyDialect::mlflow));
}

TEST_CASE("score request: Open Inference Protocol v2, one tensor or one per column", "[serving]") {
  auto one = decode(R"({"id": "r1", "inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "BYTES",
                         "data": [[42.5, "gold", "hello there"], [null, 3, null]]}]})",
                    BodyDialect::inference_v2);
  check_first_row(one);
  CHECK(one.request_id == "r1");
  check_first_row(decode(R"({"inputs": [{"name": "age", "shape": [2], "datatype": "FP64", "data": [42.5, null]},
                                        {"name": "note", "shape": [2], "datatype": "BYTES", "data": ["hello there", null]},
                                        {"name": "plan", "shape": [2], "datatype": "BYTES", "data": ["gold", 3]}]})",
                         BodyDialect::inference_v2));
}

TEST_CASE("score request: refusals name the row and the column", "[serving]") {
  auto wrong_type = refusal(R"({"data": [[1, "a", "b"], ["old", "a", "b"]]})");
  CHECK(wrong_type.status == 400);
  CHECK(wrong_type.message == "row 1, column 'age': expected a number or null, got a string");
  CHECK(wrong_type.row == 1u);
  CHECK(wrong_type.column == "age");
  CHECK(wrong_type.body().find(R"("column":"age")") != std::string::npos);

  auto missing = refusal(R"({"records": [{"age": 1, "plan": "a"}]})");
  CHECK(missing.message == "row 0: column 'note' is missing");
  CHECK(missing.column == "note");

  auto unknown = refusal(R"({"records": [{"age": 1, "plan": "a", "note": "x", "agee": 2}]})");
  CHECK(unknown.message == "row 0: unknown column 'agee' (did you mean 'age'?)");

  CHECK(refusal(R"({"data": [[1, "a"]]})").message.find("row 0: expected 3 values (columns age, plan, note), got 2") == 0);
  CHECK(refusal(R"({"data": []})").message == "empty batch: the request holds no rows");
  CHECK(refusal(R"({"data": [[1, "a", "b"], [1, "a", "b"], [1, "a", "b"]]})", BodyDialect::mlctl, 2).message ==
        "the batch of 3 rows exceeds the limit of 2 rows per request");
  CHECK(refusal(R"({"data": [[1e999, "a", "b"]]})").message ==
        "the body holds a number that is not finite (number overflow parsing '1e999')");
  CHECK(refusal(R"({"data": [[true, "a", "b"]]})").message == "row 0, column 'age': expected a number or null, got a boolean");
  CHECK(refusal(R"({"data": [[1, "a", 5]]})").message == "row 0, column 'note': expected a string or null, got a number");
  CHECK(refusal(R"({"data": [[null, "a", "b"]]})", BodyDialect::mlctl, 100, false).message ==
        "row 0, column 'age': a value is required");
  CHECK(refusal(R"({"rows": []})").message.find("the body has neither 'data'") == 0);
  CHECK(refusal("[1, 2]").message == "the body must be a JSON object");
  CHECK(refusal(R"({"data": [[1, "a", "b"]})").message.find("the body is not valid JSON: parse error") == 0);
  CHECK(refusal(R"({"inputs": [{"name": "input-0", "shape": [1, 2], "data": [1, 2]}]})", BodyDialect::inference_v2)
            .message.find("inputs[0].shape: expected [rows, 3]") == 0);
  CHECK(refusal(R"({"dataframe_split": {"columns": ["age", "plan"], "data": [[1, "a"]]}})", BodyDialect::mlflow).message ==
        "column 'note' is missing");
}

TEST_CASE("score request: CSV rows become records of the model's columns", "[serving]") {
  auto table = data::parse_csv("id,age,plan,note\n1,42.5,gold,hello there\n2,NA,,\n", "rows.csv");
  Json request = csv_to_request(table, k_inputs);
  CHECK(request == Json::parse(R"({"records": [{"age": 42.5, "plan": "gold", "note": "hello there"},
                                                 {"age": null, "plan": null, "note": ""}]})"));
  check_first_row(decode(R"({"records": [{"age": 42.5, "plan": "gold", "note": "hello there"},
                                         {"age": null, "plan": 3, "note": null}]})"));
  auto lacking = data::parse_csv("age,plan\n1,a\n", "rows.csv");
  CHECK_THROWS_WITH(csv_to_request(lacking, k_inputs), "rows.csv: no column 'note', which the model needs");
}
