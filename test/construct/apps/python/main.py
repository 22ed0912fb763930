#!/usr/bin/env python
"""The app of ../typescript/main.ts in Python: the construct from the asm-web-service wheel, cdk8s, cdk8s-plus-28
and constructs from PyPI. test/construct/cdk8s-apps.test.ts runs both and compares their manifests byte for byte."""
import os

from cdk8s import App, Chart
from constructs import Construct

from asm_web_service import AsmWebService


class ShopChart(Chart):
    def __init__(self, scope: Construct, id: str, image: str, namespace: str):
        super().__init__(scope, id, namespace=namespace)
        self.web = AsmWebService(
            self,
            "web",
            image=image,
            name="shop-web",
            replicas=3,
            service_type="LoadBalancer",
            labels={"example.com/team": "shop"},
            annotations={"example.com/owner": "shop-team"},
            pod_annotations={"example.com/scrape": "false"},
            drain_seconds=10,
        )


app = App()
chart = ShopChart(app, "shop", os.environ.get("IMAGE", ""), namespace="shop")
print(chart.web.url)
app.synth()
