"""boto3 adapters of the ports: S3, DynamoDB, Rekognition and a log-line event sink."""
