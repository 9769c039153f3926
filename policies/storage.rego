# Storage: volumes and cluster storage configuration.
package kubegate

# Deleting a PV or PVC can destroy the data on it (reclaim policy Delete).
rule_findings contains {
	"rule": "storage.delete_volume",
	"risk": "CRITICAL",
	"reason": "deleting a PersistentVolume or PersistentVolumeClaim can lose its data",
} if {
	is_delete
	volume
}

default volume := false

volume if is_resource("", "persistentvolumes")

volume if is_resource("", "persistentvolumeclaims")

# PersistentVolumes and storage.k8s.io objects (StorageClasses, CSI drivers,
# VolumeAttachments...) are cluster-wide: a reclaim policy or a driver change
# reaches every workload's data.
rule_findings contains {
	"rule": "storage.cluster_storage",
	"risk": "HIGH",
	"reason": concat(" ", ["change to cluster storage:", target]),
} if {
	is_change
	cluster_storage
}

default cluster_storage := false

cluster_storage if {
	group == ""
	resource == "persistentvolumes"
}

cluster_storage if group == "storage.k8s.io"
