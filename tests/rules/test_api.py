from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from rules.models import Domain, RecordRule, StorageTarget
from templates_app.models import RecordTemplate
from tests.api_base import APIResourceTests
from tests.conftest import Tenant
from tests.templates_app.test_api import assert_invalid, make_template

DOMAINS = "/api/v1/domains/"
TARGETS = "/api/v1/storage-targets/"
RULES = "/api/v1/record-rules/"


def make_domain(tenant: Tenant, name: str = "push.example.com", **fields: Any) -> Domain:
    return Domain.objects.create(app=tenant.app, name=name, **fields)


@pytest.mark.django_db
class TestDomainAPI(APIResourceTests):
    namespace = "rules"
    basename = "domain"
    create_data = {
        "name": "push.acme.tv",
        "push_auth_enabled": True,
        "push_auth_key": "primary-secret-1",
        "push_auth_backup_key": "backup-secret-2",
        "callback_url": "https://hooks.acme.tv/liverecord",
        "callback_key": "callback-secret-3",
        "lookback_seconds": 300,
    }
    update_data = {"callback_url": "http://hooks.acme.tv/v2", "lookback_seconds": 0, "push_auth_key": "rotated-key-4"}
    secret_fields = ("push_auth_key", "push_auth_backup_key", "callback_key")

    def make(self, tenant: Tenant, index: int = 0) -> Domain:
        return make_domain(tenant, name=f"push{index}.example.com", push_auth_key="stored-secret-9")


@pytest.mark.django_db
class TestStorageTargetAPI(APIResourceTests):
    namespace = "rules"
    basename = "storagetarget"
    create_data = {
        "name": "s3-main",
        "provider": "s3",
        "bucket": "recordings",
        "region": "us-east-1",
        "endpoint_url": "http://127.0.0.1:9000",
        "path_style": True,
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "very-secret-access-key",
        "prefix": "live/records",
        "presign_seconds": 600,
    }
    update_data = {"presign_seconds": 7200, "secret_access_key": "rotated-secret-key"}
    secret_fields = ("secret_access_key",)

    def make(self, tenant: Tenant, index: int = 0) -> StorageTarget:
        return StorageTarget.objects.create(app=tenant.app, name=f"t{index}", secret_access_key="stored-secret-9")


@pytest.mark.django_db
class TestRecordRuleAPI(APIResourceTests):
    namespace = "rules"
    basename = "recordrule"
    create_data = {"domain": "push.example.com", "app_name": "live", "stream_name": "class-7"}
    update_data = {"stream_name": "class-8"}

    def create_payload(self, tenant: Tenant) -> dict[str, Any]:
        domain = Domain.objects.filter(app=tenant.app, name="push.example.com").first() or make_domain(tenant)
        template = RecordTemplate.objects.filter(app=tenant.app).first() or make_template(tenant)
        return {**self.create_data, "domain": domain.name, "template": template.pk}

    def make(self, tenant: Tenant, index: int = 0) -> RecordRule:
        template = make_template(tenant, name=f"r{index}")
        return RecordRule.objects.create(app=tenant.app, template=template, stream_name=f"s{index}")


@pytest.mark.django_db
class TestDomainRules:
    def test_name_is_lower_cased(self, tenant: Tenant) -> None:
        assert (
            tenant.client.post(DOMAINS, {"name": "Push.Example.COM"}, format="json").json()["name"]
            == "push.example.com"
        )

    @pytest.mark.parametrize("name", ["push.example.com", "*", "10.0.0.7", "localhost", "a" * 63 + ".tv"])
    def test_valid_names(self, tenant: Tenant, name: str) -> None:
        assert tenant.client.post(DOMAINS, {"name": name}, format="json").status_code == 201

    @pytest.mark.parametrize(
        "name", ["push example.com", "-bad.com", "a" * 64 + ".tv", "http://x.com", "host:1935", "a..b"]
    )
    def test_invalid_names(self, tenant: Tenant, name: str) -> None:
        response = tenant.client.post(DOMAINS, {"name": name}, format="json")
        assert response.status_code == 400
        assert "name" in response.json()["errors"]

    def test_a_name_taken_by_another_app_is_409(self, tenant: Tenant, other_tenant: Tenant) -> None:
        make_domain(other_tenant, name="shared.example.com")
        response = tenant.client.post(DOMAINS, {"name": "shared.example.com"}, format="json")
        assert response.status_code == 409
        assert response.json()["errors"] == {"name": ["domain 'shared.example.com' is already registered"]}

    def test_push_key_length_bounds(self, tenant: Tenant) -> None:
        for index, key in enumerate(["k" * 8, "k" * 128]):
            assert (
                tenant.client.post(DOMAINS, {"name": f"ok{index}.tv", "push_auth_key": key}, format="json").status_code
                == 201
            )
        for key in ["k" * 7, "k" * 129, "has space!"]:
            response = tenant.client.post(DOMAINS, {"name": "bad.tv", "push_auth_key": key}, format="json")
            assert_invalid(response, "push_auth_key", "must be 8–128 printable characters without spaces")

    def test_push_auth_needs_a_key(self, tenant: Tenant) -> None:
        response = tenant.client.post(DOMAINS, {"name": "auth.tv", "push_auth_enabled": True}, format="json")
        assert_invalid(response, "push_auth_key", "is required when push_auth_enabled is true")

    def test_lookback_bounds(self, tenant: Tenant) -> None:
        assert tenant.client.post(DOMAINS, {"name": "a.tv", "lookback_seconds": 1800}, format="json").status_code == 201
        for bad in (-1, 1801):
            assert_invalid(
                tenant.client.post(DOMAINS, {"name": "b.tv", "lookback_seconds": bad}, format="json"),
                "lookback_seconds",
                "must be between 0 and 1800",
            )

    @pytest.mark.parametrize("url", ["ftp://x.com/cb", "javascript:alert(1)", "x.com/cb", "http://"])
    def test_callback_url_must_be_http(self, tenant: Tenant, url: str) -> None:
        assert_invalid(
            tenant.client.post(DOMAINS, {"name": "c.tv", "callback_url": url}, format="json"),
            "callback_url",
            "must be an http or https URL",
        )

    def test_source_url_template_placeholders(self, tenant: Tenant) -> None:
        ok = tenant.client.post(
            DOMAINS, {"name": "d.tv", "source_url_template": "rtmp://{ingest}:1936/{app}/{stream}"}, format="json"
        )
        assert ok.status_code == 201
        bad = tenant.client.post(DOMAINS, {"name": "e.tv", "source_url_template": "rtmp://{host}/{app}"}, format="json")
        assert_invalid(bad, "source_url_template", "has unknown placeholders: {host}")

    def test_storage_must_be_of_this_app(self, tenant: Tenant, other_tenant: Tenant) -> None:
        foreign = StorageTarget.objects.create(app=other_tenant.app, name="theirs")
        response = tenant.client.post(DOMAINS, {"name": "f.tv", "storage": foreign.pk}, format="json")
        assert_invalid(response, "storage", f"does not exist: no object with id {foreign.pk} in this app")

    def test_secrets_are_encrypted_at_rest(self, tenant: Tenant) -> None:
        tenant.client.post(DOMAINS, {"name": "g.tv", "push_auth_key": "plain-push-key"}, format="json")
        with connection.cursor() as cursor:
            cursor.execute("SELECT push_auth_key FROM rules_domain WHERE name = %s", ["g.tv"])
            (raw,) = cursor.fetchone()
        assert raw.startswith("fernet:") and "plain-push-key" not in raw
        assert Domain.objects.get(name="g.tv").push_auth_key == "plain-push-key"

    def test_patch_without_a_secret_keeps_it(self, tenant: Tenant) -> None:
        domain = make_domain(tenant, push_auth_key="keep-this-key")
        tenant.client.patch(f"{DOMAINS}{domain.pk}/", {"lookback_seconds": 5}, format="json")
        domain.refresh_from_db()
        assert domain.push_auth_key == "keep-this-key"

    def test_renaming_a_domain_renames_it_in_rules(self, tenant: Tenant) -> None:
        domain = make_domain(tenant, name="old.tv")
        rule = RecordRule.objects.create(app=tenant.app, domain="old.tv", template=make_template(tenant))
        assert tenant.client.patch(f"{DOMAINS}{domain.pk}/", {"name": "new.tv"}, format="json").status_code == 200
        rule.refresh_from_db()
        assert rule.domain == "new.tv"

    def test_deleting_a_domain_rules_use_is_409(self, tenant: Tenant) -> None:
        domain = make_domain(tenant, name="used.tv")
        RecordRule.objects.create(app=tenant.app, domain="used.tv", template=make_template(tenant))
        assert tenant.client.delete(f"{DOMAINS}{domain.pk}/").status_code == 409


@pytest.mark.django_db
class TestStorageTargetRules:
    def test_presign_bounds(self, tenant: Tenant) -> None:
        for index, ok in enumerate((60, 604800)):
            assert (
                tenant.client.post(TARGETS, {"name": f"p{index}", "presign_seconds": ok}, format="json").status_code
                == 201
            )
        for bad in (59, 604801):
            assert_invalid(
                tenant.client.post(TARGETS, {"name": "x", "presign_seconds": bad}, format="json"),
                "presign_seconds",
                "must be between 60 and 604800",
            )

    def test_prefix_bounds(self, tenant: Tenant) -> None:
        assert tenant.client.post(TARGETS, {"name": "a", "prefix": "p" * 128}, format="json").status_code == 201
        assert_invalid(
            tenant.client.post(TARGETS, {"name": "b", "prefix": "p" * 129}, format="json"),
            "prefix",
            "must be at most 128 characters",
        )
        assert_invalid(
            tenant.client.post(TARGETS, {"name": "c", "prefix": "a/../b"}, format="json"),
            "prefix",
            "must not contain '..' or '.' path segments",
        )
        assert tenant.client.post(TARGETS, {"name": "d", "prefix": ""}, format="json").status_code == 400

    def test_s3_needs_a_bucket_and_cos_a_region(self, tenant: Tenant) -> None:
        assert_invalid(
            tenant.client.post(TARGETS, {"name": "s", "provider": "s3"}, format="json"),
            "bucket",
            "is required for provider s3",
        )
        response = tenant.client.post(
            TARGETS, {"name": "c", "provider": "cos", "bucket": "rec-1250000000"}, format="json"
        )
        assert_invalid(response, "region", "is required for provider cos")

    def test_unknown_provider(self, tenant: Tenant) -> None:
        assert_invalid(
            tenant.client.post(TARGETS, {"name": "u", "provider": "ftp"}, format="json"),
            "provider",
            "must be one of local, s3, cos",
        )

    def test_deleting_a_target_a_domain_uses_is_409(self, tenant: Tenant) -> None:
        target = StorageTarget.objects.create(app=tenant.app, name="used")
        make_domain(tenant, storage=target)
        assert tenant.client.delete(f"{TARGETS}{target.pk}/").status_code == 409


@pytest.mark.django_db
class TestRecordRuleRules:
    def test_duplicate_rule_is_409(self, tenant: Tenant) -> None:
        template = make_template(tenant)
        payload = {"app_name": "live", "stream_name": "s1", "template": template.pk}
        assert tenant.client.post(RULES, payload, format="json").status_code == 201
        response = tenant.client.post(RULES, payload, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"

    def test_unknown_domain_is_400(self, tenant: Tenant) -> None:
        response = tenant.client.post(RULES, {"domain": "nope.tv", "template": make_template(tenant).pk}, format="json")
        assert_invalid(response, "domain", "'nope.tv' is not a push domain of this app")

    def test_another_apps_domain_is_400(self, tenant: Tenant, other_tenant: Tenant) -> None:
        make_domain(other_tenant, name="theirs.tv")
        response = tenant.client.post(
            RULES, {"domain": "theirs.tv", "template": make_template(tenant).pk}, format="json"
        )
        assert response.status_code == 400

    def test_another_apps_template_is_400(self, tenant: Tenant, other_tenant: Tenant) -> None:
        foreign = make_template(other_tenant)
        response = tenant.client.post(RULES, {"template": foreign.pk}, format="json")
        assert_invalid(response, "template", f"does not exist: no object with id {foreign.pk} in this app")

    def test_stream_name_bounds(self, tenant: Tenant) -> None:
        template = make_template(tenant)
        assert (
            tenant.client.post(RULES, {"stream_name": "s" * 128, "template": template.pk}, format="json").status_code
            == 201
        )
        response = tenant.client.post(RULES, {"stream_name": "s" * 129, "template": template.pk}, format="json")
        assert_invalid(response, "stream_name", "must be at most 128 characters")
        response = tenant.client.post(RULES, {"stream_name": "a/b", "template": template.pk}, format="json")
        assert response.status_code == 400

    def test_match_answers_the_winner_and_its_template(self, tenant: Tenant) -> None:
        make_domain(tenant, name="push.tv")
        general, specific = (
            make_template(tenant, name="general"),
            make_template(tenant, name="specific", mp4_enabled=True),
        )
        RecordRule.objects.create(app=tenant.app, template=general)
        RecordRule.objects.create(app=tenant.app, domain="push.tv", stream_name="vip", template=specific)
        body = tenant.client.get(
            RULES + "match/", {"domain": "push.tv", "app_name": "live", "stream_name": "vip"}
        ).json()
        assert (body["level"], body["template"]["name"], body["rule"]["stream_name"]) == (2, "specific", "vip")
        body = tenant.client.get(
            RULES + "match/", {"domain": "push.tv", "app_name": "live", "stream_name": "other"}
        ).json()
        assert (body["level"], body["template"]["name"]) == (8, "general")

    def test_match_answers_null_without_a_rule(self, tenant: Tenant) -> None:
        response = tenant.client.get(RULES + "match/", {"domain": "push.tv", "app_name": "live", "stream_name": "x"})
        assert response.status_code == 200
        assert response.content == b"null"

    def test_match_needs_every_part(self, tenant: Tenant) -> None:
        response = tenant.client.get(RULES + "match/", {"domain": "push.tv"})
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"app_name", "stream_name"}

    def test_match_never_sees_another_apps_rules(self, tenant: Tenant, other_tenant: Tenant) -> None:
        RecordRule.objects.create(app=other_tenant.app, template=make_template(other_tenant))
        response = tenant.client.get(RULES + "match/", {"domain": "push.tv", "app_name": "live", "stream_name": "x"})
        assert response.content == b"null"

    def test_filters_accept_several_values(self, tenant: Tenant) -> None:
        template = make_template(tenant)
        for name in ("alpha", "beta", "gamma"):
            RecordRule.objects.create(app=tenant.app, stream_name=name, template=template)
        rows = tenant.client.get(RULES, {"stream_name": ["alpha", "gamma"]}).json()["results"]
        assert sorted(row["stream_name"] for row in rows) == ["alpha", "gamma"]
        rows = tenant.client.get(RULES, {"stream_name": "beta,gamma"}).json()["results"]
        assert sorted(row["stream_name"] for row in rows) == ["beta", "gamma"]
        assert tenant.client.get(RULES, {"stream_name": "alpha"}).json()["count"] == 1


@pytest.mark.django_db
class TestPrivateCallbackTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/cb",
            "https://10.1.2.3/cb",
            "http://192.168.0.10/",
            "http://[::1]/cb",
            "http://localhost/cb",
            "http://169.254.169.254/latest",
        ],
    )
    def test_private_targets_are_refused(self, tenant: Tenant, settings: Any, url: str) -> None:
        settings.LIVEREC_ALLOW_PRIVATE_CALLBACKS = False
        response = tenant.client.post(DOMAINS, {"name": "p.tv", "callback_url": url}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"]["callback_url"][0].startswith("must not point to a private network")

    def test_public_targets_are_fine(self, tenant: Tenant, settings: Any) -> None:
        settings.LIVEREC_ALLOW_PRIVATE_CALLBACKS = False
        response = tenant.client.post(
            DOMAINS, {"name": "p.tv", "callback_url": "https://93.184.215.14/cb"}, format="json"
        )
        assert response.status_code == 201

    def test_the_setting_allows_loopback(self, tenant: Tenant, settings: Any) -> None:
        settings.LIVEREC_ALLOW_PRIVATE_CALLBACKS = True
        assert (
            tenant.client.post(
                DOMAINS, {"name": "p.tv", "callback_url": "http://127.0.0.1/cb"}, format="json"
            ).status_code
            == 201
        )
