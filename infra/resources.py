"""Creates a state table and a dossier bucket on an endpoint (LocalStack) from the definitions
in template.yaml, so that tests run against exactly what SAM deploys.

    python infra/resources.py --endpoint http://127.0.0.1:4566 --template template.yaml \
        --table NAME --bucket NAME

Properties LocalStack does not model (deletion protection, KMS) are left out, and so are the
table's stream (it only wakes a Lambda function, and no function runs on LocalStack here) and
the bucket's CORS rule (only a browser heeds it, and none runs against LocalStack here);
everything that shapes behaviour (keys, indexes, billing, versioning, Object Lock, public access,
TLS policy) is applied from the template.
"""

import argparse
import json
import sys

import boto3
import yaml

from cfn_yaml import CfnLoader


def resource(template, type_name):
    found = [r for r in template["Resources"].values() if r["Type"] == type_name]
    if len(found) != 1:
        sys.exit(f"template.yaml must define exactly one {type_name}, found {len(found)}")
    return found[0]["Properties"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--bucket", required=True)
    args = ap.parse_args()
    with open(args.template, encoding="utf-8") as f:
        template = yaml.load(f, Loader=CfnLoader)
    kw = dict(endpoint_url=args.endpoint, region_name="us-east-1",
              aws_access_key_id="test", aws_secret_access_key="test")

    table = resource(template, "AWS::DynamoDB::Table")
    ddb = boto3.client("dynamodb", **kw)
    ddb.create_table(
        TableName=args.table,
        BillingMode=table["BillingMode"],
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        GlobalSecondaryIndexes=table.get("GlobalSecondaryIndexes", []),
    )
    ddb.get_waiter("table_exists").wait(TableName=args.table)
    ttl = table.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        ddb.update_time_to_live(
            TableName=args.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    if table.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        ddb.update_continuous_backups(
            TableName=args.table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )

    bucket = resource(template, "AWS::S3::Bucket")
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket=args.bucket,
                     ObjectLockEnabledForBucket=bool(bucket.get("ObjectLockEnabled")))
    if bucket.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=args.bucket,
                                 VersioningConfiguration={"Status": "Enabled"})
    if "LifecycleConfiguration" in bucket:
        # LocalStack stores the rules but never expires anything (README, "LocalStack").
        rules = []
        for r in bucket["LifecycleConfiguration"]["Rules"]:
            days = r["ExpirationInDays"]
            if isinstance(days, dict):
                days = template["Parameters"][days["Ref"]]["Default"]
            rules.append({
                "ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": r["Prefix"]},
                "Expiration": {"Days": int(days)},
                "NoncurrentVersionExpiration": {
                    "NoncurrentDays": r["NoncurrentVersionExpiration"]["NoncurrentDays"]},
                "AbortIncompleteMultipartUpload": {
                    "DaysAfterInitiation":
                        r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]},
            })
        s3.put_bucket_lifecycle_configuration(
            Bucket=args.bucket, LifecycleConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in bucket:
        s3.put_public_access_block(
            Bucket=args.bucket,
            PublicAccessBlockConfiguration=bucket["PublicAccessBlockConfiguration"])
    policy = resource(template, "AWS::S3::BucketPolicy")["PolicyDocument"]
    arn = f"arn:aws:s3:::{args.bucket}"

    def resolve(v):
        if isinstance(v, dict) and "GetAtt" in v:
            return arn
        if isinstance(v, dict) and "Sub" in v:
            return v["Sub"].replace("${DossierBucket.Arn}", arn)
        if isinstance(v, dict):
            return {k: resolve(x) for k, x in v.items()}
        if isinstance(v, list):
            return [resolve(x) for x in v]
        return v

    s3.put_bucket_policy(Bucket=args.bucket, Policy=json.dumps(resolve(policy)))
    print(f"created table {args.table} and bucket {args.bucket}")


if __name__ == "__main__":
    main()
