"""CloudWatch Logs filter patterns: the examples of AWS's filter pattern syntax that the twin supports.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
"""

from __future__ import annotations

import json

import pytest

from lambdas.contract import SUBSCRIPTION_FILTER_PATTERN
from tests.twin.filter_pattern import UnsupportedPattern, matches

FATAL = "[ERROR] A fatal exception has occurred"
EXITING = "[ERROR] Exiting with ErrorCode: 1"
WARNING = "[WARN] Disk usage above 90%"
INFO = "[INFO] Starting the service"

#: The JSON log event of the AWS documentation's JSON examples.
EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "123.123.123.123",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
        "bandwidth": 75,
        "latency": 50,
        "user": {"id": 1, "email": "John.Doe@example.com"},
        "users": [{"id": 2, "email": "John.Stiles@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
    }
)


# ---------------------------------------------------------------------------------------------- terms


def test_the_empty_pattern_matches_every_line() -> None:
    # GIVEN the empty pattern
    # WHEN it is applied to any line, JSON or not
    # THEN every line matches
    assert matches("", INFO)
    assert matches("  ", EVENT)


def test_a_term_matches_lines_that_contain_it() -> None:
    # GIVEN the pattern ERROR
    # WHEN it is applied to an error and an info line
    # THEN only the error line matches
    assert matches("ERROR", FATAL)
    assert not matches("ERROR", INFO)


def test_terms_are_case_sensitive() -> None:
    # GIVEN the pattern error in lower case
    # WHEN it is applied to a line with ERROR
    # THEN it does not match
    assert not matches("error", FATAL)


def test_several_terms_must_all_be_present() -> None:
    # GIVEN the pattern ERROR Exiting
    # WHEN it is applied to lines with both terms and with one
    # THEN only the line with both matches
    assert matches("ERROR Exiting", EXITING)
    assert not matches("ERROR Exiting", FATAL)


def test_a_quoted_phrase_matches_the_exact_phrase() -> None:
    # GIVEN the quoted phrase "fatal exception"
    # WHEN it is applied to a line with the phrase and one with its words apart
    # THEN only the exact phrase matches
    assert matches('"fatal exception"', FATAL)
    assert not matches('"fatal exception"', "[ERROR] fatal: an exception")


def test_a_minus_term_excludes_lines_that_contain_it() -> None:
    # GIVEN the pattern ERROR -Exiting
    # WHEN it is applied to both error lines
    # THEN the line with Exiting is excluded
    assert matches("ERROR -Exiting", FATAL)
    assert not matches("ERROR -Exiting", EXITING)


def test_a_minus_term_alone_matches_every_other_line() -> None:
    # GIVEN the pattern -ERROR
    # WHEN it is applied to an error and an info line
    # THEN only the info line matches
    assert matches("-ERROR", INFO)
    assert not matches("-ERROR", FATAL)


def test_question_mark_terms_match_lines_with_any_of_them() -> None:
    # GIVEN the pattern ?ERROR ?WARN
    # WHEN it is applied to error, warning and info lines
    # THEN errors and warnings match, info does not
    assert matches("?ERROR ?WARN", FATAL)
    assert matches("?ERROR ?WARN", WARNING)
    assert not matches("?ERROR ?WARN", INFO)


# ----------------------------------------------------------------------------------------------- JSON


def test_a_json_string_equality_matches_the_value() -> None:
    # GIVEN { $.eventType = "UpdateTrail" }
    # WHEN it is applied to the event and to one of another type
    other = json.dumps({"eventType": "CreateTrail"})
    # THEN only the UpdateTrail event matches
    assert matches('{ $.eventType = "UpdateTrail" }', EVENT)
    assert not matches('{ $.eventType = "UpdateTrail" }', other)


def test_a_json_string_inequality_matches_other_values() -> None:
    # GIVEN { $.eventType != "UpdateTrail" }
    # WHEN it is applied to the UpdateTrail event and a CreateTrail one
    other = json.dumps({"eventType": "CreateTrail"})
    # THEN only the other event matches
    assert matches('{ $.eventType != "UpdateTrail" }', other)
    assert not matches('{ $.eventType != "UpdateTrail" }', EVENT)


def test_json_string_values_are_case_sensitive() -> None:
    # GIVEN { $.eventType = "updatetrail" }
    # WHEN it is applied to the UpdateTrail event
    # THEN it does not match
    assert not matches('{ $.eventType = "updatetrail" }', EVENT)


def test_a_wildcard_in_a_json_string_matches_any_text() -> None:
    # GIVEN the documentation's { $.sourceIPAddress != 123.123.* } and its = form
    # WHEN it is applied to an event from 123.123.123.123
    # THEN the = form matches and the != form does not
    assert matches("{ $.sourceIPAddress = 123.123.* }", EVENT)
    assert not matches("{ $.sourceIPAddress != 123.123.* }", EVENT)


def test_a_wildcard_in_a_quoted_json_string_matches_any_text() -> None:
    # GIVEN { $.eventType = "Update*" }
    # WHEN it is applied to the UpdateTrail event
    # THEN it matches
    assert matches('{ $.eventType = "Update*" }', EVENT)


def test_question_marks_and_brackets_in_a_json_string_are_literal() -> None:
    # GIVEN patterns whose values contain ? and [...], which are not wildcards in filter patterns
    line = json.dumps({"level": "[INFO]", "query": "abc"})
    # WHEN they are applied
    # THEN [INFO] matches only itself and a?c does not match abc
    assert matches('{ $.level = "[INFO]" }', line)
    assert not matches('{ $.level = "[IFNO]" }', json.dumps({"level": "I"}))
    assert not matches('{ $.query = "a?c" }', line)


def test_a_json_array_element_is_selected_by_index() -> None:
    # GIVEN { $.arrayKey[0] = "value" } and { $.arrayKey[1] = "value" }
    # WHEN they are applied to the event
    # THEN only index 0 holds "value"
    assert matches('{ $.arrayKey[0] = "value" }', EVENT)
    assert not matches('{ $.arrayKey[1] = "value" }', EVENT)


def test_a_nested_selector_through_an_array_reaches_a_number() -> None:
    # GIVEN { $.objectList[1].id = 2 }
    # WHEN it is applied to the event
    # THEN the second object's id matches and the first's does not
    assert matches("{ $.objectList[1].id = 2 }", EVENT)
    assert not matches("{ $.objectList[0].id = 2 }", EVENT)


def test_an_index_past_the_end_does_not_match() -> None:
    # GIVEN { $.arrayKey[5] = "value" }
    # WHEN it is applied to an event with two elements
    # THEN it does not match
    assert not matches('{ $.arrayKey[5] = "value" }', EVENT)


def test_numeric_comparisons_compare_numbers() -> None:
    # GIVEN the event's bandwidth 75 and latency 50
    # WHEN <, >, <= and >= are applied
    # THEN each holds exactly as arithmetic says
    assert matches("{ $.bandwidth > 74 }", EVENT)
    assert not matches("{ $.bandwidth > 75 }", EVENT)
    assert matches("{ $.latency < 51 }", EVENT)
    assert not matches("{ $.latency < 50 }", EVENT)
    assert matches("{ $.latency <= 50 }", EVENT)
    assert matches("{ $.bandwidth >= 75 }", EVENT)
    assert not matches("{ $.bandwidth >= 76 }", EVENT)


def test_a_numeric_comparison_does_not_match_a_string_value() -> None:
    # GIVEN { $.eventType > 1 }
    # WHEN it is applied to an event whose eventType is a string
    # THEN it does not match
    assert not matches("{ $.eventType > 1 }", EVENT)


def test_a_boolean_value_matches_true() -> None:
    # GIVEN { $.ThisFlag = true } and { $.ThisFlag = false }
    # WHEN they are applied to an event whose flag is true
    # THEN only the true form matches
    assert matches("{ $.ThisFlag = true }", EVENT)
    assert not matches("{ $.ThisFlag = false }", EVENT)


def test_and_requires_both_sides() -> None:
    # GIVEN the documentation's { $.user.id = 1 && $.users[0].email = "John.Doe@example.com" }
    pattern = '{ $.user.id = 1 && $.users[0].email = "John.Doe@example.com" }'
    # WHEN it is applied to an event where users[0] is John.Stiles
    # THEN it does not match, while a true second side does
    assert not matches(pattern, EVENT)
    assert matches('{ $.user.id = 1 && $.user.email = "John.Doe@example.com" }', EVENT)


def test_or_requires_either_side() -> None:
    # GIVEN { $.user.id = 2 || $.users[0].id = 2 }
    # WHEN it is applied to the event, where only the second side holds
    # THEN it matches, and a pattern where neither holds does not
    assert matches("{ $.user.id = 2 || $.users[0].id = 2 }", EVENT)
    assert not matches("{ $.user.id = 2 || $.users[0].id = 3 }", EVENT)


def test_parentheses_group_before_or() -> None:
    # GIVEN the documentation's { ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }
    grouped = '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }'
    # WHEN it is applied to the event, where actions[2] is DELETE
    # THEN it does not match, and with actions[0] it does
    assert not matches(grouped, EVENT)
    assert matches('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[0] = "GET" }', EVENT)


def test_and_binds_tighter_than_or() -> None:
    # GIVEN { $.user.id = 1 || $.user.id = 2 && $.latency = 0 }, which reads as 1 || (2 && ...)
    # WHEN it is applied to an event with user.id 1
    # THEN it matches, while the parenthesised (1 || 2) && ... does not
    assert matches("{ $.user.id = 1 || $.user.id = 2 && $.latency = 0 }", EVENT)
    assert not matches("{ ($.user.id = 1 || $.user.id = 2) && $.latency = 0 }", EVENT)


def test_is_null_matches_a_null_value_only() -> None:
    # GIVEN { $.SomeObject IS NULL }
    # WHEN it is applied to events where the field is null, a value and missing
    # THEN only the null field matches
    assert matches("{ $.SomeObject IS NULL }", EVENT)
    assert not matches("{ $.SomeObject IS NULL }", json.dumps({"SomeObject": {}}))
    assert not matches("{ $.SomeObject IS NULL }", json.dumps({}))


def test_not_exists_matches_a_missing_field_only() -> None:
    # GIVEN { $.SomeOtherObject NOT EXISTS }
    # WHEN it is applied to the event (without it) and to an event with it set to null
    # THEN only the event without the field matches
    assert matches("{ $.SomeOtherObject NOT EXISTS }", EVENT)
    assert not matches("{ $.SomeObject NOT EXISTS }", EVENT)


def test_a_non_json_line_does_not_match_a_json_pattern() -> None:
    # GIVEN a JSON pattern
    # WHEN it is applied to a plain text line
    # THEN it does not match
    assert not matches('{ $.eventType = "UpdateTrail" }', FATAL)


def test_a_missing_field_does_not_match_an_equality() -> None:
    # GIVEN { $.eventType = "UpdateTrail" }
    # WHEN it is applied to a JSON line without eventType
    # THEN it does not match
    assert not matches('{ $.eventType = "UpdateTrail" }', json.dumps({"other": "UpdateTrail"}))


def test_the_project_pattern_matches_event_lines_only() -> None:
    # GIVEN the project's subscription filter pattern
    assert SUBSCRIPTION_FILTER_PATTERN == '{ $.record_type = "imgmgr.event" }'
    event_line = json.dumps({"record_type": "imgmgr.event", "name": "ImageUploaded"}, separators=(",", ":"))
    log_line = json.dumps({"level": "INFO", "message": "imgmgr.event written"})
    # WHEN it is applied to an event line, a log line and a plain line
    # THEN only the event line is forwarded
    assert matches(SUBSCRIPTION_FILTER_PATTERN, event_line)
    assert not matches(SUBSCRIPTION_FILTER_PATTERN, log_line)
    assert not matches(SUBSCRIPTION_FILTER_PATTERN, "START RequestId: 1 Version: $LATEST")


# -------------------------------------------------------------------------------------- unsupported


def test_is_true_is_unsupported() -> None:
    # GIVEN the documented { $.ThisFlag IS TRUE }, which this matcher does not implement
    # WHEN it is applied
    # THEN it raises rather than guessing
    with pytest.raises(UnsupportedPattern, match="expected op"):
        matches("{ $.ThisFlag IS TRUE }", EVENT)


def test_a_wildcard_selector_is_unsupported() -> None:
    # GIVEN { $.* = "value" }
    # WHEN it is applied
    # THEN it raises
    with pytest.raises(UnsupportedPattern, match="expected selector"):
        matches('{ $.* = "value" }', EVENT)


def test_an_unbalanced_json_pattern_is_unsupported() -> None:
    # GIVEN a JSON pattern without its closing brace
    # WHEN it is applied
    # THEN it raises
    with pytest.raises(UnsupportedPattern, match="unbalanced"):
        matches('{ $.eventType = "UpdateTrail"', EVENT)


def test_an_ordering_on_a_string_is_unsupported() -> None:
    # GIVEN { $.eventType > "A" }, an ordering of strings
    # WHEN it is applied
    # THEN it raises
    with pytest.raises(UnsupportedPattern, match="compares numbers only"):
        matches('{ $.eventType > "A" }', EVENT)


def test_an_unbalanced_parenthesis_is_unsupported() -> None:
    # GIVEN a JSON pattern with an unclosed parenthesis
    # WHEN it is applied
    # THEN it raises
    with pytest.raises(UnsupportedPattern, match="expected close"):
        matches("{ ($.user.id = 1 }", EVENT)


def test_an_unsupported_json_pattern_raises_on_a_non_json_line_too() -> None:
    # GIVEN the unsupported { $.ThisFlag IS TRUE }
    # WHEN it is applied to a plain text line, which no JSON pattern matches
    # THEN it still raises, rather than silently not matching
    with pytest.raises(UnsupportedPattern, match="expected op"):
        matches("{ $.ThisFlag IS TRUE }", FATAL)


def test_a_space_delimited_pattern_is_unsupported() -> None:
    # GIVEN the documentation's space-delimited [ip, user, username, timestamp, request, status_code = 404, bytes]
    pattern = "[ip, user, username, timestamp, request, status_code = 404, bytes]"
    # WHEN it is applied
    # THEN it raises rather than being read as terms
    with pytest.raises(UnsupportedPattern, match="space-delimited"):
        matches(pattern, '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.gif HTTP/1.0" 404 1534')


def test_a_regex_pattern_is_unsupported() -> None:
    # GIVEN the documentation's regex pattern %AUTHORIZED%
    # WHEN it is applied
    # THEN it raises rather than being read as a term
    with pytest.raises(UnsupportedPattern, match="regex"):
        matches("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST")


def test_a_quoted_term_with_a_percent_sign_is_a_term() -> None:
    # GIVEN the quoted term "90%", which is not a regex
    # WHEN it is applied to the warning line
    # THEN it matches as a phrase
    assert matches('"90%"', WARNING)


def test_an_ordering_on_a_string_raises_on_a_line_without_the_field() -> None:
    # GIVEN { $.eventType > "A" }, an ordering of strings
    # WHEN it is applied to a JSON line without eventType, and to a plain line
    # THEN it raises on both, rather than silently not matching
    with pytest.raises(UnsupportedPattern, match="compares numbers only"):
        matches('{ $.eventType > "A" }', json.dumps({"other": 1}))
    with pytest.raises(UnsupportedPattern, match="compares numbers only"):
        matches('{ $.eventType > "A" }', FATAL)
