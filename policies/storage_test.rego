package kubegate_test

test_storage_delete_volume_positive if {
	pv := result with input as req_input({"verb": "delete", "resource": "persistentvolumes", "name": "pv-1"}, null)
	fired("storage.delete_volume", pv)
	pv.decision.risk == "CRITICAL"
	pvc := result with input as req_input({"verb": "delete", "resource": "persistentvolumeclaims", "namespace": "default", "name": "data"}, null)
	fired("storage.delete_volume", pvc)
	pvc.decision.risk == "CRITICAL"
	pvc.decision.reasons == [
		"delete of persistentvolumeclaims default/data",
		"deleting a PersistentVolume or PersistentVolumeClaim can lose its data",
	]
}

test_storage_delete_volume_negative if {
	# resizing a claim is an ordinary change
	r := result with input as req_input({"verb": "patch", "resource": "persistentvolumeclaims", "namespace": "default", "name": "data"}, {"spec": {"resources": {"requests": {"storage": "20Gi"}}}})
	not fired("storage.delete_volume", r)
	r.decision.risk == "MEDIUM"
}

test_storage_cluster_storage_positive if {
	pv := result with input as req_input({"verb": "patch", "resource": "persistentvolumes", "name": "pv-1"}, {"spec": {"persistentVolumeReclaimPolicy": "Delete"}})
	fired("storage.cluster_storage", pv)
	pv.decision.risk == "HIGH"
	sc := result with input as req_input({"verb": "create", "group": "storage.k8s.io", "resource": "storageclasses"}, {"metadata": {"name": "fast"}})
	fired("storage.cluster_storage", sc)
	sc.decision.risk == "HIGH"
}

test_storage_cluster_storage_negative if {
	r1 := result with input as req_input({"verb": "create", "resource": "persistentvolumeclaims", "namespace": "default"}, {"metadata": {"name": "data"}})
	not fired("storage.cluster_storage", r1)
	r2 := result with input as req_input({"verb": "list", "group": "storage.k8s.io", "resource": "storageclasses"}, null)
	not fired("storage.cluster_storage", r2)
}

# delete_volume: both verbs of deleting (is_delete), both volume resources, never their subresources.
test_storage_delete_volume_each_verb_and_resource if {
	every v in ["delete", "deletecollection"] {
		every res in ["persistentvolumes", "persistentvolumeclaims"] {
			r := result with input as req_input({"verb": v, "resource": res, "namespace": "default"}, null)
			fired("storage.delete_volume", r)
		}
	}
	s := result with input as req_input({"verb": "delete", "resource": "persistentvolumeclaims", "subresource": "status", "namespace": "default", "name": "d"}, null)
	not fired("storage.delete_volume", s)
	g := result with input as req_input({"verb": "delete", "group": "example.com", "resource": "persistentvolumes", "name": "d"}, null)
	not fired("storage.delete_volume", g)
}
