"""The operations lint (infra/sam lint runs it): what a deployed swi needs to be run, checked in
template.yaml and samconfig.toml, since LocalStack runs no Lambda, emits no metrics and fires no
alarm:

- every function logs to a log group of its own that keeps logs a set number of days, and has an
  alarm on its errors and one on its throttles, both sent to the alarm topic;
- every asynchronous source of a function (a schedule, an EventBridge rule, a stream, its own
  asynchronous invocations) sends what it cannot deliver to a dead-letter queue;
- every function reading a stream has an alarm on the stream's iterator age;
- every queue has an alarm on the messages waiting in it;
- the dashboard shows every function, the queue and the table;
- every environment of samconfig.toml sets only the template's parameters, and every parameter
  that has no default.

Exits non-zero, naming each gap.
"""

import sys
import re
import tomllib

import cfn_yaml


def refs(value):
    """Every resource a value names by Ref, GetAtt or ${...}."""
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "GetAtt":
                out.add((v if isinstance(v, str) else v[0]).split(".")[0])
            elif k == "Sub":
                text = v if isinstance(v, str) else v[0]
                out.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
            else:
                out |= refs(v)
    elif isinstance(value, list):
        for v in value:
            out |= refs(v)
    return out


def main(template_path, samconfig_path):
    t = cfn_yaml.load(template_path)
    res = t["Resources"]
    gaps = []
    alarms = {n: r["Properties"] for n, r in res.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

    def alarm_on(metric, name, dim):
        for a in alarms.values():
            if a.get("MetricName") != metric:
                continue
            for d in a.get("Dimensions", []):
                if d["Name"] == dim and name in refs(d["Value"]):
                    if "AlarmTopic" not in refs(a.get("AlarmActions", [])):
                        gaps.append(f"alarm on {metric} of {name} goes to no topic")
                    return True
        return False

    dashboards = [r for r in res.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    shown = set()
    for d in dashboards:
        shown |= refs(d["Properties"]["DashboardBody"])
    if not dashboards:
        gaps.append("no dashboard")

    for name, r in res.items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        p = r["Properties"]
        group = p.get("LoggingConfig", {}).get("LogGroup")
        group_name = next(iter(refs(group)), None) if group else None
        if not group_name or res.get(group_name, {}).get("Type") != "AWS::Logs::LogGroup":
            gaps.append(f"{name}: no log group of its own")
        elif "RetentionInDays" not in res[group_name]["Properties"]:
            gaps.append(f"{name}: its log group keeps logs for ever")
        for metric in ("Errors", "Throttles"):
            if not alarm_on(metric, name, "FunctionName"):
                gaps.append(f"{name}: no alarm on {metric}")
        if name not in shown:
            gaps.append(f"{name}: not on the dashboard")
        asynchronous = False
        for ev_name, ev in (p.get("Events") or {}).items():
            kind, props = ev["Type"], ev.get("Properties", {})
            if kind in ("ScheduleV2", "Schedule", "EventBridgeRule", "CloudWatchEvent"):
                asynchronous = True
                if "DeadLetterConfig" not in props:
                    gaps.append(f"{name}.{ev_name}: no dead-letter queue")
            elif kind in ("DynamoDB", "Kinesis", "SQS"):
                if kind != "SQS" and "OnFailure" not in props.get("DestinationConfig", {}):
                    gaps.append(f"{name}.{ev_name}: no on-failure destination")
                if kind != "SQS" and not alarm_on("IteratorAge", name, "FunctionName"):
                    gaps.append(f"{name}: reads a stream with no iterator-age alarm")
        if asynchronous and "OnFailure" not in p.get("EventInvokeConfig", {}).get("DestinationConfig", {}):
            gaps.append(f"{name}: invoked asynchronously with no on-failure destination")

    for name, r in res.items():
        if r["Type"] == "AWS::SQS::Queue":
            if not alarm_on("ApproximateNumberOfMessagesVisible", name, "QueueName"):
                gaps.append(f"{name}: no alarm on waiting messages")
            if name not in shown:
                gaps.append(f"{name}: not on the dashboard")
        if r["Type"] == "AWS::DynamoDB::Table" and name not in shown:
            gaps.append(f"{name}: not on the dashboard")

    params = t.get("Parameters", {})
    required = {n for n, p in params.items() if "Default" not in p}
    with open(samconfig_path, "rb") as f:
        config = tomllib.load(f)
    stacks = set()
    for env, sections in config.items():
        if not isinstance(sections, dict) or "deploy" not in sections:
            continue
        d = sections["deploy"]["parameters"]
        stacks.add(d["stack_name"])
        given = dict(kv.split("=", 1) for kv in d.get("parameter_overrides", "").split())
        for k in given:
            if k not in params:
                gaps.append(f"samconfig [{env}]: {k} is not a parameter of the template")
        for k in required - set(given):
            gaps.append(f"samconfig [{env}]: {k} has no default and is not set")
        if given.get("Stage") not in (None, env if env != "default" else "dev"):
            gaps.append(f"samconfig [{env}]: Stage is {given.get('Stage')}")
    envs = [e for e, s in config.items() if isinstance(s, dict) and "deploy" in s]
    if len(stacks) != len(envs):
        gaps.append("samconfig: two environments share a stack")

    for g in gaps:
        print(f"ops-lint: {g}")
    if gaps:
        sys.exit(1)
    print(f"ops-lint: {sum(1 for r in res.values() if r['Type'] == 'AWS::Serverless::Function')} functions, "
          f"{len(alarms)} alarms, {len(envs)} environments: every function logged, alarmed and shown; "
          "every asynchronous source with its dead letters")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
