"""``imgmgr cost``: the prices and free-tier allowances that matter to this system, and an estimate of the
monthly bill for a given volume of images on each kind of AWS account.

Prices are us-east-1 list prices as of ``prices.PRICES_AS_OF``, written down from the AWS pricing pages
named in each ``Price.source`` (recalled, not fetched: this project cannot browse), except those with a
``Price.checked`` date, compared with a transcription of their page on that day. Verify them before
relying on a number; the table is the one place to correct them. What the numbers depend on:

- **Legacy Free Tier**: accounts created before 2025-07-15 get the 12-month offers (S3 5 GB, 2,000 PUT
  and 20,000 GET requests; API Gateway 1M REST calls; Rekognition 1,000 images) for their first year.
- **Credit-based plan**: accounts created on or after 2025-07-15 get no 12-month offers but credits:
  ``prices.SIGN_UP_CREDITS_USD`` at sign-up and up to ``prices.ACTIVITY_CREDITS_USD`` more for
  activities, which expire ``prices.CREDITS_EXPIRE_MONTHS`` after sign-up (AWS Free Tier page and FAQ,
  2025-07). Such an account chooses the *free plan* (at most ``prices.FREE_PLAN_MONTHS`` months; the
  account closes when the credits run out or the months pass unless it is upgraded; some services are not
  available on it) or the *paid plan* (the credits pay the bill until they are spent).
- **Always free**, every account, every month: Lambda, DynamoDB (25 GB, 25 WCU, 25 RCU provisioned),
  CloudWatch, SQS, SNS, X-Ray, and the first 10,000 monthly active users of Cognito user pools on the
  Lite and Essentials plans. A legacy account after its first year pays what a credit-plan account
  pays before credits.
- **The user pool** (``ImagePipelineProps.cognito``) is priced only when asked (``--users``: its monthly
  active users; ``--user-pool-plan``, ``CognitoProps().feature_plan`` by default): its users do not grow
  with the images, so its line is billed at any volume or never (``model.billed_from``).
- **The table** is modelled by its billing mode (``ImagePipelineProps().billing_mode``, ``--billing-mode``):
  on demand (the default) it is billed per request unit, in no free tier, legacy or credit-based, with
  the units one image's life takes as ``python -m bench capacity`` measures them
  (``model.WRITE_UNITS_PER_IMAGE``); provisioned it is billed per unit-hour beyond the always-free 25 WCU
  and 25 RCU, whatever the images.
- Since 2025-08-01 Lambda bills the INIT phase (cold starts) of managed runtimes too; the per-image
  seconds of ``model.DEFAULT_PROFILES`` include an average share of it.

Per-image compute comes from ``make bench`` (``python -m bench.imaging``): the tuned pipeline renders the
standard renditions at 62-72 megapixels per CPU second on one x86 core (2026-11-28, ``--quick``); Lambda's
arm64 core is taken as 1.25x slower, and compress also runs the quality search.

The modules, each importing only those listed before it: ``prices`` (the price table, its free-tier
allowances and the plan credits), ``model`` (what an image uses and the monthly estimate), ``formatting``
(numbers and the two tables) and ``report`` (the budget, the report and the command).
"""
