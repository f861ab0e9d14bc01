"""What a reviewer of a change must see beyond the list of steps: pure functions over two recorded
deployments (the head and the --base revision).

    policy_diff.py   key, secret and IAM policy documents compared statement by statement
    iam.py           IAM's evaluation of one request against a resource or key policy (our own, pure)
    deployment.py    what access depends on, read from a deployment: secrets, their keys and policies
    access.py        who can read each secret, in each region, from its resource policy and its keys' policies
    access_diff.py   that access before and after, and every widening
"""
