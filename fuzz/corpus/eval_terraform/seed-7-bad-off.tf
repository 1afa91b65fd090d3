resource "google_container_cluster" "legacy" {
  name                  = "legacy"
  location              = "europe-west1"
  initial_node_count    = 1
  enable_shielded_nodes = false # rampart-expect: tf-gcp-gke-shielded-nodes-disabled
}
