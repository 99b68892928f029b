"""Vendors' VEX documents and statements as the API shows them."""

from __future__ import annotations

from rest_framework import serializers

from findings.models import VexImport


class VexDocumentRefSerializer(serializers.Serializer):
    import_ = serializers.IntegerField(source="import", help_text="The VEX import's id.")
    delivery = serializers.IntegerField()
    format = serializers.CharField()
    id = serializers.CharField(help_text="The document's own id.")
    author = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    version = serializers.CharField()
    link = serializers.CharField(help_text="Where the document says it lives (https), or ''.")

    def to_representation(self, instance: dict) -> dict:
        return instance


class VexStatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vulnerability_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["not_affected", "affected", "fixed", "under_investigation"]
    )
    justification = serializers.CharField(help_text="OpenVEX's justification, when one maps.")
    original_justification = serializers.CharField()
    impact = serializers.CharField()
    action = serializers.CharField()
    products = serializers.ListField(child=serializers.DictField())
    trusted = serializers.BooleanField(
        help_text="The author is in VEX_TRUSTED_AUTHORS: policies and admission may read it."
    )
    document = VexDocumentRefSerializer()

    def to_representation(self, instance) -> dict:
        return instance.as_dict()


class FindingVexStatementsSerializer(serializers.Serializer):
    finding = serializers.IntegerField()
    statements = VexStatementSerializer(many=True)


class VexImportSerializer(serializers.ModelSerializer):
    superseded = serializers.BooleanField(read_only=True)

    class Meta:
        model = VexImport
        fields = [
            "id", "delivery", "format", "spec_version", "document_id", "author", "issued_at",
            "version", "link", "statement_count", "superseded", "superseded_by", "imported_at",
        ]  # fmt: skip
