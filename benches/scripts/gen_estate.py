#!/usr/bin/env python3
"""Generate a synthetic estate spec for scaling measurements of `xverify prove`.

usage: gen_estate.py ACCOUNTS > spec.json

Every account is in one organization (ten accounts per OU), has ten roles (trusting roles of
neighbouring accounts, some with an External ID for a vendor outside the org), five resources with
policies (three DynamoDB tables granting org principals by aws:PrincipalOrgID, two buckets granting
named roles), and the organization has an RCP data perimeter. Properties: nobody outside the
organization reads any of the organization's tables, directly or through role chains (the
vendor's External-ID roles are stopped by the RCP perimeter), both proved.
"""
import json
import sys

n = int(sys.argv[1])
org = "o-scale00001"
acct = lambda i: "%012d" % (200000000000 + i)
full = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
perimeter = {"Version": "2012-10-17", "Statement": [{
    "Sid": "OrgOnly", "Effect": "Deny", "Principal": "*",
    "Action": ["s3:*", "dynamodb:*", "sts:AssumeRole"], "Resource": "*",
    "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org},
                  "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}
units = []
for u in range((n + 9) // 10):
    units.append({"id": "ou-scal-%08d" % u, "name": "unit%d" % u, "scps": ["FullAWSAccess"],
                  "rcps": [], "accounts": [acct(i) for i in range(u * 10, min(n, u * 10 + 10))], "units": []})
accounts = {}
vendor = "999999999999"
for i in range(n):
    a = acct(i)
    roles = {}
    for r in range(10):
        peer = acct((i + r + 1) % n)
        if r == 0:
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                     "Principal": {"AWS": "arn:aws:iam::%s:root" % vendor}, "Action": "sts:AssumeRole",
                     "Condition": {"StringEquals": {"sts:ExternalId": "ext-%d" % i}}}]}
        else:
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                     "Principal": {"AWS": "arn:aws:iam::%s:role/Role%d" % (peer, r - 1)}, "Action": "sts:AssumeRole"}]}
        pol = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
             "Resource": "arn:aws:dynamodb:us-east-1:%s:table/T%d" % (acct((i + r) % n), r % 3)},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Role%d" % (r + 1)},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::bucket-%d-*/*" % i}]}
        roles["Role%d" % r] = {"trust_policy": trust, "policies": [{"name": "Work%d" % r, "policy": pol}],
                               "tags": {"team": "t%d" % (r % 4)}}
    resources = {}
    for t in range(3):
        arn = "arn:aws:dynamodb:us-east-1:%s:table/T%d" % (a, t)
        resources[arn] = {"policy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": arn,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}]}, "tags": {"class": "data"}}
    for b in range(2):
        bucket = "bucket-%d-%d" % (i, b)
        resources["arn:aws:s3:::%s" % bucket] = {"policy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:role/Role%d" % (acct((i + 1) % n), b)},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}]}}
    accounts[a] = {"name": "acct%d" % i, "scps": ["FullAWSAccess"], "rcps": [], "roles": roles, "resources": resources}
spec = {
    "organization": {"id": org, "management_account": "100000000000",
                     "policies": {"FullAWSAccess": full, "Perimeter": perimeter},
                     "root": {"id": "r-scal", "scps": ["FullAWSAccess"], "rcps": ["Perimeter"],
                              "accounts": ["100000000000"], "units": units}},
    "accounts": accounts,
    "properties": [
        {"name": "tables-stay-in-org", "expect": "none", "principals": ["outside-organization", "outside-account"],
         "actions": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
         "resources": ["arn:aws:dynamodb:*:*:table/*"], "via_assume_role": False},
        {"name": "tables-stay-in-org-with-chains", "expect": "none", "principals": ["outside-organization", "outside-account"],
         "actions": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
         "resources": ["arn:aws:dynamodb:*:*:table/*"]},
    ],
}
json.dump(spec, sys.stdout, indent=1)
