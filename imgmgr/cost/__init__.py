"""``imgmgr cost``: the prices and free-tier allowances that matter to this system, and an estimate of the
monthly bill for a given volume of images on each kind of AWS account (``imgmgr.cost.model``)."""
