"""The AWS CDK constructs of movement-lake, composed into one stack."""
