"""Creates an organisation with one member account and AI resources in moto.

Bedrock resources are left out because the SDK rejects moto 5.2.5's timestamps for them:
ListAgents sends `updatedAt` as epoch seconds, and ListCustomModels sends `creationTime`
as `2026-12-04 19:26:12`, where the API documents RFC 3339 strings.

Usage: python moto_setup.py ENDPOINT_URL. Prints the member account id.
"""

import sys

import boto3

ENDPOINT = sys.argv[1]
BASE = dict(
    endpoint_url=ENDPOINT,
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    region_name="us-east-1",
)
# A zip holding handler.py; moto stores the code without running it.
ZIP = bytes.fromhex(
    "504b0304140000000000" "6f94845d24d286f12a0000002a0000000a000000"
    "68616e646c65722e7079"
    "6465662068616e646c6572286576656e742c20636f6e74657874293a0a2020202072657475726e20310a"
    "504b01021403140000000000" "6f94845d24d286f12a0000002a0000000a00000000000000000000008001"
    "0000000068616e646c65722e7079"
    "504b0506000000000100010038000000520000000000"
)


def member_clients(account):
    sts = boto3.client("sts", **BASE)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/SecrunaReadOnly",
        RoleSessionName="setup",
    )["Credentials"]
    keys = dict(
        endpoint_url=ENDPOINT,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )
    return lambda service: boto3.client(service, **keys)


def main():
    org = boto3.client("organizations", **BASE)
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email="ml@example.com", AccountName="ml")
    account = status["CreateAccountStatus"]["AccountId"]
    client = member_clients(account)

    sagemaker = client("sagemaker")
    role = f"arn:aws:iam::{account}:role/sagemaker"
    container = {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"}
    sagemaker.create_model(ModelName="churn", ExecutionRoleArn=role, PrimaryContainer=container)
    sagemaker.create_model(ModelName="orphan", ExecutionRoleArn=role, PrimaryContainer=container)
    sagemaker.create_endpoint_config(
        EndpointConfigName="churn-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "churn",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="churn-endpoint", EndpointConfigName="churn-config")

    iam = client("iam")
    policy = '{"Version":"2012-10-17","Statement":[]}'
    lambda_role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=policy)["Role"]["Arn"]
    functions = client("lambda")
    functions.create_function(
        FunctionName="summarise",
        Runtime="python3.12",
        Role=lambda_role,
        Handler="handler.handler",
        Code={"ZipFile": ZIP},
        Environment={"Variables": {"OPENAI_API_KEY": "sk-moto-secret-value", "TABLE": "docs"}},
    )
    functions.create_function(
        FunctionName="plain",
        Runtime="python3.12",
        Role=lambda_role,
        Handler="handler.handler",
        Code={"ZipFile": ZIP},
        Environment={"Variables": {"TABLE": "docs"}},
    )

    print(account)


main()
