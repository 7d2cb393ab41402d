package nrces

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func TestCutBlobs(t *testing.T) {
	long := bytes.Repeat([]byte("QUJD"), blobMinLen/4+1)
	doc := []byte(`{"a":"x \"data\": y","data" : "` + string(long) + `","title":"` + string(long) + `","n":{"data":"c2hvcnQ="},"b":"\\","data":"` + string(long) + `"}`)
	skeleton, blobs := cutBlobs(doc)
	if len(blobs) != 2 {
		t.Fatalf("%d blobs, want the two long data values", len(blobs))
	}
	for _, b := range blobs {
		if !bytes.Equal(b, long) {
			t.Errorf("blob %.20s…", b)
		}
	}
	var v map[string]any
	if err := json.Unmarshal(skeleton, &v); err != nil {
		t.Fatalf("skeleton is not JSON: %v\n%s", err, skeleton)
	}
	if v["title"] != string(long) || v["a"] != `x "data": y` || v["b"] != `\` {
		t.Errorf("other strings changed: %v", v)
	}
	if i, ok := blobIndex([]byte(`"\u0000blob:1"`)); !ok || i != 1 {
		t.Errorf("blobIndex = %d, %v", i, ok)
	}
	if _, ok := blobIndex([]byte(`"QUJD"`)); ok {
		t.Error("a real value read as a placeholder")
	}
	// Nothing to cut: the input itself comes back.
	if s, b := cutBlobs([]byte(`{"data":"c2hvcnQ="}`)); len(b) != 0 || string(s) != `{"data":"c2hvcnQ="}` {
		t.Errorf("cutBlobs on a short value: %s, %d", s, len(b))
	}
}

// Cutting blobs before decoding is only an optimisation: every shared
// example reads to the same record without it.
func TestCutBlobsChangesNothing(t *testing.T) {
	names, data := sharedBundles(t)
	for _, name := range names {
		fast, err := Read(context.Background(), data[name], Provenance{})
		if err != nil {
			t.Fatal(err)
		}
		n := newNormaliser(indiaZone, Provenance{})
		root, unreadable := n.decodeCarefully(data[name])
		if root == nil || len(unreadable) > 0 {
			t.Fatalf("%s: careful decode failed", name)
		}
		n.normalise(root)
		n.rec.Problems = n.probs.list
		if n.rec.Problems == nil {
			n.rec.Problems = []Problem{}
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(n.rec)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the record differs with and without cutting blobs", name)
		}
	}
}
