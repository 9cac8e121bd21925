"""PS_4: a pipeline's artifact store names its KMS encryption explicitly."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class EncryptedArtifactStore(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="CodePipeline artifact stores are encrypted with KMS",
            id="CKV_PS_4",
            categories=(CheckCategories.ENCRYPTION,),
            supported_resources=("AWS::CodePipeline::Pipeline",),
        )

    def scan_resource_conf(self, conf):
        properties = conf.get("Properties", {})
        stores = [properties["ArtifactStore"]] if "ArtifactStore" in properties else []
        stores += [s.get("ArtifactStore", {}) for s in properties.get("ArtifactStores", [])]
        if stores and all(s.get("EncryptionKey", {}).get("Type") == "KMS" for s in stores):
            return CheckResult.PASSED
        return CheckResult.FAILED


check = EncryptedArtifactStore()
