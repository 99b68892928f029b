"""Thin Celery tasks: fetch by id, call the service."""

from __future__ import annotations

from celery import shared_task

from .deliveries import DeliveryRejected, delivery_process
from .models import Delivery


@shared_task(name="findings.delivery_process")
def delivery_process_task(delivery_id: int) -> str:
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    try:
        delivery_process(delivery=delivery)
    except DeliveryRejected:
        return "rejected"
    return "processed"
