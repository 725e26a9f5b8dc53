"""The per-process LRU of kernels, keyed by (project, version); built once under a lock."""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.conf import settings

from apps.kernel.exceptions import NoPublishedVersion
from apps.kernel.kernel import Kernel
from apps.projects.hosts import ProjectRoute
from apps.projects.models import AppVersion


class KernelCache:
    """Least-recently-used kernels; a miss builds the kernel from the stored artifact."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kernels: OrderedDict[tuple[str, int], Kernel] = OrderedDict()
        self._lock = threading.Lock()
        self._build_locks: dict[tuple[str, int], threading.Lock] = {}
        self.hits = self.misses = self.evictions = 0
        self.build_seconds_total = 0.0  # summed Kernel.build_seconds of the misses

    def get(self, route: ProjectRoute) -> Kernel:
        if route.published_version_id is None:
            raise NoPublishedVersion(route.project_name)
        return self.get_version(route.project_name, route.published_version_id)

    def get_version(self, project_name: str, version_id: int) -> Kernel:
        key = (project_name, version_id)
        kernel = self._kernels.get(key)
        if kernel is not None:
            self.hits += 1
            try:
                self._kernels.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile
                pass
            return kernel
        with self._lock:
            build_lock = self._build_locks.setdefault(key, threading.Lock())
        with build_lock:
            kernel = self._kernels.get(key)
            if kernel is None:
                self.misses += 1
                kernel = self._build(project_name, version_id)
                self.build_seconds_total += kernel.build_seconds
                with self._lock:
                    self._kernels[key] = kernel
                    while len(self._kernels) > self.size:
                        self._kernels.popitem(last=False)
                        self.evictions += 1
                    self._build_locks.pop(key, None)
        return kernel

    def _build(self, project_name: str, version_id: int) -> Kernel:
        version = AppVersion.objects.only("number", "source").get(pk=version_id)
        return Kernel.from_raw(project_name, version_id, version.number, version.artifact)

    def contains(self, project_name: str, version_id: int) -> bool:
        """Whether the kernel is cached, without touching the LRU order or the counters."""
        return (project_name, version_id) in self._kernels

    def cached(self) -> list[Kernel]:
        """The cached kernels, least recently used first (a snapshot)."""
        with self._lock:
            return list(self._kernels.values())

    def clear(self) -> None:
        with self._lock:
            self._kernels.clear()

    def __len__(self) -> int:
        return len(self._kernels)


kernels = KernelCache(settings.OS_KERNEL_CACHE_SIZE)
