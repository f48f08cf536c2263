"""Names from the public contract (docs/contract.md), hard-coded on purpose:
the deploy checks fail if a rule, dashboard or manifest uses a metric, label
or flag that the exporter does not promise."""

import re

DEPLOYMENT_METRICS = {
    "dashscope_deployment_capacity",
    "dashscope_deployment_ready_capacity",
    "dashscope_deployment_base_capacity",
    "dashscope_deployment_status",
    "dashscope_deployment_info",
    "dashscope_deployment_created_timestamp_seconds",
    "dashscope_deployment_modified_timestamp_seconds",
    "dashscope_deployment_limit_requests_per_minute",
    "dashscope_deployment_limit_tokens_per_minute",
    # second release
    "dashscope_deployment_unexpected_status_info",
    "dashscope_deployment_failure_info",
    "dashscope_deployment_status_changed_timestamp_seconds",
    "dashscope_deployment_status_changes_total",
    "dashscope_deployment_ptu_input_tpm",
    "dashscope_deployment_ptu_output_tpm",
    "dashscope_deployment_prepaid_expiry_timestamp_seconds",
}

ACCOUNT_METRICS = {
    "dashscope_up",
    "dashscope_last_successful_poll_timestamp_seconds",
    "dashscope_poll_duration_seconds",
    "dashscope_polls_total",
    "dashscope_poll_failures_total",
    "dashscope_api_requests_total",
    "dashscope_api_errors_total",
    # histogram dashscope_api_request_duration_seconds
    "dashscope_api_request_duration_seconds_bucket",
    "dashscope_api_request_duration_seconds_sum",
    "dashscope_api_request_duration_seconds_count",
}

PROCESS_METRICS = {
    "dashscope_exporter_build_info",
    "dashscope_exporter_config_last_reload_successful",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_open_fds",
    "process_max_fds",
}

METRICS = DEPLOYMENT_METRICS | ACCOUNT_METRICS | PROCESS_METRICS

STATUSES = ["PENDING", "UPDATING", "RUNNING", "STOPPED", "DELETING", "FAILED", "UNKNOWN"]

# Labels the exporter sets, plus those Prometheus adds (job, instance) and
# the histogram's `le`.
LABELS = {
    "account", "workspace_id", "deployed_model", "status", "name", "model_name",
    "base_model", "plan", "charge_type", "code", "version", "revision", "le",
    "job", "instance",
    # second release
    "raw_status", "reason", "model_unit_spec", "ptu_service_tier", "overflow_strategy",
}

FLAGS = {
    "--config.file", "--web.listen-address", "--web.telemetry-path",
    "--web.config.file", "--log.level", "--log.format", "--once",
    "--check-config", "--version", "--help",
}

PORT = 9864
MOCK_PORT = 9865

_METRIC_RE = re.compile(r"\b((?:dashscope|process)_[a-zA-Z0-9_]+)\b")
_GROUPING_RE = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_MATCHER_RE = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*(?:\"|%q)")
_SELECTOR_RE = re.compile(r"\{([^{}]*)\}")


_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_PRINTF_RE = re.compile(r'printf\s+"((?:[^"\\]|\\.)*)"')


def metric_names(expr):
    """dashscope_* and process_* identifiers in a PromQL expression (string
    literals such as job="dashscope_exporter" are not metric names)."""
    return set(_METRIC_RE.findall(_STRING_RE.sub('""', expr)))


def template_queries(text):
    """The PromQL of `printf "..." | query` calls in an alert template."""
    return [q.replace('\\"', '"') for q in _PRINTF_RE.findall(text)]


def label_names(expr):
    """Label names used in matchers and in by/on/... clauses of a PromQL expression."""
    names = set()
    for group in _GROUPING_RE.findall(expr):
        names.update(n.strip() for n in group.split(",") if n.strip())
    for selector in _SELECTOR_RE.findall(expr):
        names.update(_MATCHER_RE.findall(selector))
    return names


def unknown_names(expr):
    """Problems with the contract names in expr, as messages."""
    problems = []
    for m in sorted(metric_names(expr) - METRICS):
        problems.append("metric %s is not in the contract" % m)
    for label in sorted(label_names(expr) - LABELS):
        problems.append("label %s is not one the exporter or Prometheus sets" % label)
    return problems
